// A thin Vault HTTP client on node:http(s): one keep-alive agent per backend (so the client
// certificate, CA and server name are connection settings), at most N requests in flight.
import http from 'node:http';
import https from 'node:https';
import type { Limiter } from '../limiter.js';
import type { VaultSettings } from './settings.js';

export interface VaultRequest {
  method: 'GET' | 'POST' | 'PUT' | 'LIST';
  /** Below /v1/, e.g. "kuma-pki-default/issue/role". */
  path: string;
  body?: Record<string, unknown> | undefined;
  token?: string | undefined;
  /** Send X-Vault-Namespace (default true; sys/health lives in the root namespace). */
  namespaced?: boolean;
  timeoutMs: number;
}

/** Vault's JSON envelope; only the parts this backend reads. */
export interface VaultEnvelope {
  data?: Record<string, unknown> | null;
  auth?: { client_token?: string; lease_duration?: number; renewable?: boolean; policies?: string[] } | null;
  warnings?: string[] | null;
  errors?: string[];
}

export interface VaultResponse {
  status: number;
  text: string;
  /** Parsed when the body is JSON. */
  json: VaultEnvelope | undefined;
}

/** The request never got an HTTP answer (connection, DNS, TLS, timeout). */
export class VaultTransportError extends Error {
  constructor(
    message: string,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'VaultTransportError';
  }
}

export interface VaultClient {
  request(req: VaultRequest): Promise<VaultResponse>;
  close(): void;
}

export function createVaultClient(settings: VaultSettings, limiter: Limiter, maxSockets: number): VaultClient {
  const isHttps = settings.url.protocol === 'https:';
  const agent = isHttps
    ? new https.Agent({ keepAlive: true, maxSockets, ...settings.tls })
    : new http.Agent({ keepAlive: true, maxSockets });
  const base = settings.url.href.replace(/\/+$/, '');

  function send(req: VaultRequest): Promise<VaultResponse> {
    const url = new URL(`${base}/v1/${req.path}`);
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (req.token) headers['X-Vault-Token'] = req.token;
    if (settings.namespace && req.namespaced !== false) headers['X-Vault-Namespace'] = settings.namespace;
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(payload));
    }
    return new Promise((resolve, reject) => {
      const options = { method: req.method, headers, agent };
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (err) => reject(transportError(err)));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: VaultEnvelope | undefined;
          if (String(res.headers['content-type'] ?? '').includes('json') && text.trim() !== '') {
            try {
              json = JSON.parse(text) as VaultEnvelope;
            } catch {
              json = undefined;
            }
          }
          resolve({ status: res.statusCode ?? 0, text, json });
        });
      };
      const r = isHttps ? https.request(url, options, onResponse) : http.request(url, options, onResponse);
      r.setTimeout(req.timeoutMs, () => {
        r.destroy(new VaultTransportError(`no answer within ${req.timeoutMs / 1000}s`, 'ETIMEDOUT'));
      });
      r.on('error', (err) => reject(transportError(err)));
      if (payload !== undefined) r.write(payload);
      r.end();
    });
  }

  return {
    request: (req) => limiter.run(() => send(req)),
    close: () => agent.destroy(),
  };
}

function transportError(err: unknown): VaultTransportError {
  if (err instanceof VaultTransportError) return err;
  const e = err as NodeJS.ErrnoException;
  return new VaultTransportError(e.message ?? String(err), e.code ?? 'EUNKNOWN', { cause: err });
}

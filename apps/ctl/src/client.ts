import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { Connection } from './config.js';
import { readTextFile } from './files.js';

export interface ApiErrorBody {
  status?: number;
  title?: string;
  detail?: string;
  causes?: { field: string; message: string }[];
}

/** An error answer of the control plane, kept whole so the CLI can print each failing field. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.name = 'ApiCallError';
  }
}

export interface ApiClient {
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  /** For text/plain answers (tokens, in Kuma's shape): the body as text. Errors still come as ApiCallError. */
  callText(method: string, path: string, body?: unknown): Promise<string>;
}

export async function createClient(cp: Connection): Promise<ApiClient> {
  const token = cp.tokenFile ? (await readTextFile(cp.tokenFile, 'token file')).trim() : undefined;
  const ca = cp.caCertFile ? await readTextFile(cp.caCertFile, 'CA certificate file') : undefined;
  const base = new URL(cp.address);
  const isHttps = base.protocol === 'https:';

  /** One request; an answer of 400 or more becomes an ApiCallError carrying the control plane's error body. */
  const send = (
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const opts = {
      method,
      headers: {
        accept: 'application/json',
        ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      ...(isHttps ? { ca, rejectUnauthorized: !cp.skipVerify } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (isHttps ? httpsRequest : httpRequest)(new URL(path, base), opts, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const status = res.statusCode ?? 0;
          if (status >= 400) reject(new ApiCallError(status, parseJson(text) ?? {}));
          else resolve({ status, text });
        });
      });
      req.on('error', (err) => reject(new Error(unreachable(cp, err))));
      req.end(payload);
    });
  };

  return {
    async call(method, path, body, headers = {}) {
      const { status, text } = await send(method, path, body, headers);
      return { status, body: parseJson(text) as never };
    },
    async callText(method, path, body) {
      return (await send(method, path, body, { accept: 'text/plain' })).text;
    },
  };
}

/** JSON when it is JSON; anything else (a proxy's HTML page, plain text) is kept as `detail` so it can be shown. */
function parseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return { detail: text };
  }
}

/** Certificate checks that a CA file (global's `<data-dir>/api-ca.pem`) would satisfy. */
const UNVERIFIED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
]);

/** Why the request did not get an answer, and what to do about it. */
function unreachable(cp: Connection, err: NodeJS.ErrnoException): string {
  const what = `the control plane at ${cp.address}${cp.defaulted ? ' (the default: no control plane is configured)' : ''}`;
  // Both addresses of localhost refused: an AggregateError whose message is empty.
  const reason = err.message || err.code || String(err);
  if (err.code !== undefined && UNVERIFIED.has(err.code)) {
    const ca = cp.caCertFile
      ? `${cp.caCertFile} did not sign its certificate; pass the right one with --ca-cert-file`
      : 'pass the CA that signed it with --ca-cert-file FILE (or MESHCA_CA_CERT_FILE); meshca-global writes it to <data-dir>/api-ca.pem';
    return `cannot verify the certificate of ${what}: ${reason}; ${ca}`;
  }
  if (cp.defaulted && err.code === 'ECONNREFUSED') {
    return `cannot reach ${what}: ${reason}; start meshca-global there, or pass --address (or run meshctl config control-planes add)`;
  }
  return `cannot reach ${what}: ${reason}`;
}

import http from 'node:http';
import https from 'node:https';
import { randomBytes } from 'node:crypto';
import { startVaultServer, type VaultServer } from '../servers/vault/index.js';

/**
 * Where the conformance tests run: the in-process test server, or a real Vault / OpenBao
 * when VAULT_ADDR and VAULT_TOKEN are set (VAULT_CACERT for its TLS CA file contents or path).
 */
export interface Target {
  address: string;
  token: string;
  caCertPem: string | undefined;
  /** Present only for the in-process server (seal(), stats(), ...). */
  server: VaultServer | undefined;
  external: boolean;
  /** A mount/policy name unique to this run when talking to a shared real Vault. */
  unique(name: string): string;
  stop(): Promise<void>;
}

export const EXTERNAL = Boolean(process.env.VAULT_ADDR && process.env.VAULT_TOKEN);

export async function openTarget(opts: { tls?: boolean } = {}): Promise<Target> {
  if (EXTERNAL) {
    const { readFileSync, existsSync } = await import('node:fs');
    const ca = process.env.VAULT_CACERT;
    const suffix = randomBytes(3).toString('hex');
    return {
      address: String(process.env.VAULT_ADDR).replace(/\/$/, ''),
      token: String(process.env.VAULT_TOKEN),
      caCertPem: ca ? (existsSync(ca) ? readFileSync(ca, 'utf8') : ca) : undefined,
      server: undefined,
      external: true,
      unique: (name) => `${name}-${suffix}`,
      stop: async () => {},
    };
  }
  const server = await startVaultServer({ tls: opts.tls ?? false });
  return {
    address: server.address,
    token: server.rootToken,
    caCertPem: server.caCertPem,
    server,
    external: false,
    unique: (name) => name,
    stop: () => server.stop(),
  };
}

export interface CallOptions {
  token?: string | null;
  namespace?: string;
  clientCert?: { certPem: string; keyPem: string };
}

export interface CallResult {
  status: number;
  contentType: string | undefined;
  text: string;
  // Vault JSON bodies are loosely typed; tests narrow what they read.
  json: VaultBody;
}

export interface VaultBody {
  data?: Record<string, unknown> & { certificate?: string; csr?: string; issuing_ca?: string; ca_chain?: string[] };
  auth?: { client_token: string; policies: string[]; lease_duration: number; renewable: boolean; metadata: Record<string, string> | null };
  warnings?: string[] | null;
  errors?: string[];
  [k: string]: unknown;
}

/** One HTTP call shaped the way the `vault` CLI and node-vault send it. */
export function call(t: Target, method: string, path: string, body?: unknown, o: CallOptions = {}): Promise<CallResult> {
  const url = new URL(`${t.address}/v1/${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? t.token : o.token;
  if (token) headers['X-Vault-Token'] = token;
  if (o.namespace) headers['X-Vault-Namespace'] = o.namespace;
  if (payload) headers['Content-Type'] = 'application/json';
  const isHttps = url.protocol === 'https:';
  const lib = isHttps ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      url,
      {
        method,
        headers,
        ...(isHttps
          ? { ca: t.caCertPem, cert: o.clientCert?.certPem, key: o.clientCert?.keyPem, agent: false as const }
          : { agent: false as const }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: VaultBody = {};
          if (text && String(res.headers['content-type']).includes('json')) json = JSON.parse(text) as VaultBody;
          resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], text, json });
        });
      },
    );
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

/** Fails the test with Vault's own message when the call did not succeed. */
export async function ok(p: Promise<CallResult>): Promise<CallResult> {
  const r = await p;
  if (r.status !== 200 && r.status !== 204) throw new Error(`vault answered ${r.status}: ${r.text}`);
  return r;
}

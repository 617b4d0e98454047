// Small helpers for the vault backend tests: HTTP calls to the in-process Vault-compatible test
// server, and the `vault` commands of seed 001 (role, policy, token) with names as parameters.
import http from 'node:http';
import https from 'node:https';
import type { Resource, ResourceKey } from '@meshca/api';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import type { BackendContext, BackendEnv, DataSourceReader } from '../src/index.js';
import { createDataSourceReader } from '../src/index.js';
import type { VaultServer } from '../../../test/servers/vault/index.js';

export { startVaultServer } from '../../../test/servers/vault/index.js';
export type { VaultServer } from '../../../test/servers/vault/index.js';

export interface Reply {
  status: number;
  text: string;
  json: { data?: Record<string, unknown>; auth?: { client_token: string }; errors?: string[] };
}

export function vaultCall(
  v: VaultServer,
  method: string,
  path: string,
  body?: unknown,
  o: { token?: string | null; namespace?: string; clientCert?: { certPem: string; keyPem: string } } = {},
): Promise<Reply> {
  const url = new URL(`${v.address}/v1/${path}`);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = {};
  const token = o.token === undefined ? v.rootToken : o.token;
  if (token) headers['X-Vault-Token'] = token;
  if (o.namespace) headers['X-Vault-Namespace'] = o.namespace;
  if (payload) headers['Content-Type'] = 'application/json';
  const tls = url.protocol === 'https:' ? { ca: v.caCertPem, cert: o.clientCert?.certPem, key: o.clientCert?.keyPem } : {};
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method, headers, agent: false, ...tls }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const json = String(res.headers['content-type']).includes('json') && text ? (JSON.parse(text) as Reply['json']) : {};
        resolve({ status: res.statusCode ?? 0, text, json });
      });
    });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

export async function ok(p: Promise<Reply>): Promise<Reply> {
  const r = await p;
  if (r.status !== 200 && r.status !== 204) throw new Error(`vault answered ${r.status}: ${r.text}`);
  return r;
}

/** The role arguments of seed 001 step 2. */
export const SEED_ROLE = {
  allowed_uri_sans: 'spiffe://default/*,kuma://*',
  key_usage: 'KeyUsageKeyEncipherment,KeyUsageKeyAgreement,KeyUsageDigitalSignature',
  ext_key_usage: 'ExtKeyUsageServerAuth,ExtKeyUsageClientAuth',
  client_flag: 'true',
  require_cn: 'false',
  allowed_domains: 'mesh',
  allow_subdomains: 'true',
  basic_constraints_valid_for_non_ca: 'true',
  max_ttl: '720h',
  ttl: '720h',
};

export interface SeedSetup {
  mount: string;
  role: string;
  /** The root CA certificate the setup saved (ca.pem / -field=certificate). */
  rootPem: string;
  /** A token of step 4: policy granting only `<mount>/issue/<role>`. */
  token: string;
  policy: string;
}

export interface SeedOptions {
  mount?: string;
  role?: string;
  intermediate?: boolean;
  /** Role arguments replacing those of the seed (e.g. key_type=ec for speed, max_ttl=1h). */
  roleArgs?: Record<string, string>;
  namespace?: string;
  /** Extra policy paths (e.g. the sign path for CSR mode). */
  extraPaths?: string[];
  /** Token creation arguments (ttl, renewable, ...). */
  tokenArgs?: Record<string, unknown>;
}

/** Seed 001 steps 1-4 as HTTP calls: PKI (root or intermediate variant), role, policy, token. */
export async function seedVault(v: VaultServer, o: SeedOptions = {}): Promise<SeedSetup> {
  const mount = o.mount ?? 'kmesh-pki-default';
  const role = o.role ?? 'dataplane-proxies';
  const ns = o.namespace ? { namespace: o.namespace } : {};
  const put = (path: string, body: unknown) => ok(vaultCall(v, 'POST', path, body, ns));
  let rootPem: string;
  if (o.intermediate) {
    const rootMount = `${mount}-root`;
    await put(`sys/mounts/${rootMount}`, { type: 'pki' });
    await put(`sys/mounts/${rootMount}/tune`, { max_lease_ttl: '87600h' });
    const gen = await put(`${rootMount}/root/generate/internal`, { common_name: 'Organization CA', ttl: '87600h' });
    rootPem = String(gen.json.data?.certificate);
    await put(`sys/mounts/${mount}`, { type: 'pki' });
    const inter = await put(`${mount}/intermediate/generate/internal`, {
      common_name: 'Kong Mesh Mesh Default',
      uri_sans: 'spiffe://default',
    });
    const signed = await put(`${rootMount}/root/sign-intermediate`, {
      csr: `${String(inter.json.data?.csr)}\n`,
      format: 'pem_bundle',
      ttl: '43800h',
    });
    await put(`${mount}/intermediate/set-signed`, { certificate: `${String(signed.json.data?.certificate)}\n\n${rootPem}\n` });
  } else {
    await put(`sys/mounts/${mount}`, { type: 'pki' });
    await put(`sys/mounts/${mount}/tune`, { max_lease_ttl: '87600h' });
    const gen = await put(`${mount}/root/generate/internal`, {
      common_name: 'Kong Mesh Default',
      uri_sans: 'spiffe://default',
      ttl: '87600h',
    });
    rootPem = String(gen.json.data?.certificate);
  }
  await put(`${mount}/roles/${role}`, { ...SEED_ROLE, ...o.roleArgs });
  const policy = `kmesh-${mount}-${role}`;
  const paths = [`${mount}/issue/${role}`, ...(o.extraPaths ?? [])];
  const hcl = paths.map((p) => `path "/${p}"\n{\n  capabilities = ["create", "update"]\n}\n`).join('\n');
  await put(`sys/policies/acl/${policy}`, { policy: hcl });
  const created = await put('auth/token/create', { policies: [policy], renewable: true, ...o.tokenArgs });
  return { mount, role, rootPem, token: String(created.json.auth?.client_token), policy };
}

/** A memory store holding mesh Secrets (name -> text), as global has them when a Mesh is applied. */
export async function storeWithSecrets(secrets: Record<string, string>, mesh = 'default'): Promise<ResourceStore> {
  const store = createMemoryStore();
  for (const [name, text] of Object.entries(secrets)) {
    await store.create({ meta: { type: 'Secret', mesh, name }, spec: { data: Buffer.from(text).toString('base64') } });
  }
  return store;
}

export function envOf(store: ResourceStore): BackendEnv {
  return { get: (key: ResourceKey): Promise<Resource | undefined> => store.get(key) };
}

export function contextOf(mesh: string, backend: BackendContext['backend'], store: ResourceStore): BackendContext {
  const readDataSource: DataSourceReader = createDataSourceReader((k) => store.get(k), mesh);
  return { mesh, backend, readDataSource };
}

export interface Proxy {
  address: string;
  /** Most requests it had open at once. */
  maxInFlight(): number;
  /** Headers of every request it received, in order. */
  seen: Array<{ path: string; headers: http.IncomingHttpHeaders }>;
  stop(): Promise<void>;
}

/**
 * A plain HTTP forwarder in front of an http:// test server: counts requests in flight, records
 * headers, can add headers (as a Vault Agent adds its token) or answer some paths itself.
 */
export async function startProxy(
  target: string,
  o: { addHeaders?: Record<string, string>; answer?: (path: string) => { status: number; body: string } | undefined } = {},
): Promise<Proxy> {
  let inFlight = 0;
  let max = 0;
  const seen: Proxy['seen'] = [];
  const server = http.createServer((req, res) => {
    inFlight += 1;
    max = Math.max(max, inFlight);
    res.on('close', () => {
      inFlight -= 1;
    });
    const path = req.url ?? '/';
    seen.push({ path, headers: { ...req.headers } });
    const canned = o.answer?.(path);
    if (canned) {
      res.writeHead(canned.status, { 'Content-Type': 'application/json' }).end(canned.body);
      return;
    }
    const headers = { ...req.headers, ...o.addHeaders };
    delete headers.host;
    const up = http.request(new URL(path, target), { method: req.method, headers, agent: false }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    address: `http://127.0.0.1:${port}`,
    maxInFlight: () => max,
    seen,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

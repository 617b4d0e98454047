import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { randomBytes, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  VaultHttpError,
  badRequest,
  invalidToken,
  noRoute,
  permissionDenied,
  sealedError,
  unsupportedOperation,
  unsupportedPath,
} from './errors.js';
import type { Body } from './params.js';
import { type Capability, type Policy, capabilitiesFor } from './policy.js';
import { type Operation, type Request, type Result, type Route, handlerFor } from './route.js';
import { type Namespace, Namespaces, normaliseNsPath } from './namespaces.js';
import { type TokenEntry, SYSTEM_TTL, TokenStore } from './tokens.js';
import { mintToken, tokenRoute } from './tokenapi.js';
import { certAuthRoute } from './certauth.js';
import { pkiRoute } from './pki/backend.js';
import { type SealState, health, json, sealStatus, sysRoute } from './sys.js';
import { type ListenerTls, makeListenerTls } from './tlscert.js';

export interface VaultServerOptions {
  /** true: a generated listener certificate; or your own PEM pair. Default: plain HTTP. */
  tls?: boolean | { certPem: string; keyPem: string; caCertPem?: string };
  /** The root token id; default a random `hvs.` token. */
  rootToken?: string;
  /** Added to every request before it is handled (benchmarks). */
  latencyMs?: number;
  port?: number;
}

export interface VaultServerStats {
  total: number;
  /** Request counts keyed by "<namespace path><api path>", e.g. "kmesh-pki-default/issue/dataplane-proxies". */
  byPath: Record<string, number>;
}

export interface VaultServer {
  address: string;
  rootToken: string;
  /** The CA of the TLS listener (undefined for plain HTTP or a user pair without CA). */
  caCertPem: string | undefined;
  /** The single unseal key, for `PUT sys/unseal`. */
  unsealKey: string;
  stop(): Promise<void>;
  seal(): void;
  unseal(): void;
  setLatency(ms: number): void;
  stats(): VaultServerStats;
}

const SEALED_ALLOWED = new Set(['sys/health', 'sys/seal-status', 'sys/unseal', 'sys/init', 'sys/leader']);

function operationOf(method: string, query: URLSearchParams): Operation | undefined {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return query.get('list') === 'true' ? 'list' : 'read';
    case 'LIST':
      return 'list';
    case 'POST':
    case 'PUT':
      return 'update';
    case 'DELETE':
      return 'delete';
    case 'PATCH':
      return 'patch';
    default:
      return undefined;
  }
}

async function readBody(req: http.IncomingMessage): Promise<Body> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Body;
  } catch (err) {
    throw badRequest(`failed to parse JSON input: ${(err as Error).message}`);
  }
}

function tokenFrom(req: http.IncomingMessage): string {
  const header = req.headers['x-vault-token'];
  if (typeof header === 'string' && header !== '') return header;
  const authz = req.headers.authorization;
  if (typeof authz === 'string' && /^bearer /i.test(authz)) return authz.slice(7).trim();
  return '';
}

function send(res: http.ServerResponse, status: number, contentType: string | undefined, body: string): void {
  if (contentType) res.setHeader('Content-Type', contentType);
  res.setHeader('Cache-Control', 'no-store');
  res.statusCode = status;
  res.end(body);
}

function sendError(res: http.ServerResponse, err: VaultHttpError): void {
  send(res, err.status, 'application/json', `${JSON.stringify({ errors: err.errors })}\n`);
}

export async function startVaultServer(opts: VaultServerOptions = {}): Promise<VaultServer> {
  const namespaces = new Namespaces();
  const tokens = new TokenStore();
  const seal: SealState = {
    sealed: false,
    unsealKey: randomBytes(32).toString('base64'),
    version: '1.15.6',
    clusterName: 'vault-cluster-meshca-test',
    clusterId: randomUUID(),
  };
  let latencyMs = opts.latencyMs ?? 0;
  const counts = new Map<string, number>();
  let total = 0;

  const root = mintToken(tokens, namespaces.root, {
    policies: ['root'],
    ttl: 0,
    explicitMaxTtl: 0,
    period: 0,
    renewable: false,
    numUses: 0,
    noDefaultPolicy: true,
    displayName: 'root',
    meta: null,
    path: 'auth/token/root',
    orphan: true,
  }).entry;
  if (opts.rootToken) {
    tokens.revoke(root.id);
    root.id = opts.rootToken;
    tokens.add(root);
  }

  /** Finds the route for a path inside a namespace; `mounted` says whether some mount or system area claimed it. */
  function resolve(ns: Namespace | undefined, path: string): { route: Route | undefined; mounted: boolean; mountType: string } {
    if (!ns) return { route: undefined, mounted: false, mountType: '' };
    if (path.startsWith('sys/')) return { route: sysRoute(namespaces, ns, path.slice(4)), mounted: true, mountType: 'system' };
    if (path.startsWith('auth/token/')) return { route: tokenRoute(tokens, ns, path.slice(11)), mounted: true, mountType: 'token' };
    const authMount = /^auth\/([^/]+)\/(.*)$/.exec(path);
    if (authMount) {
      const a = ns.auths.get(`${authMount[1]}/`);
      if (!a) return { route: undefined, mounted: false, mountType: '' };
      return { route: certAuthRoute(tokens, ns, a, authMount[2] ?? ''), mounted: true, mountType: a.type };
    }
    let best: string | undefined;
    for (const mp of ns.mounts.keys()) {
      if ((path.startsWith(mp) || `${path}/` === mp) && (!best || mp.length > best.length)) best = mp;
    }
    if (best === undefined) return { route: undefined, mounted: false, mountType: '' };
    const mount = ns.mounts.get(best);
    if (!mount) return { route: undefined, mounted: false, mountType: '' };
    const ttl = {
      defaultTtl: () => mount.defaultLeaseTtl || SYSTEM_TTL.defaultTtl,
      maxTtl: () => mount.maxLeaseTtl || SYSTEM_TTL.maxTtl,
    };
    return { route: pkiRoute(mount.pki, ttl, path.slice(best.length)), mounted: true, mountType: 'pki' };
  }

  function policiesOf(token: TokenEntry): Policy[] {
    const home = namespaces.get(token.nsPath);
    if (!home) return [];
    return token.policies.map((p) => home.policies.get(p)).filter((p): p is Policy => p !== undefined);
  }

  /** Vault's CheckToken: who is calling, and may they do `op` on the full path. */
  function authorize(rawToken: string, nsPath: string, path: string, op: Operation, sudo: boolean): TokenEntry {
    if (rawToken === '') throw permissionDenied();
    const token = tokens.lookup(rawToken);
    if (!token) throw invalidToken();
    if (!nsPath.startsWith(token.nsPath)) throw permissionDenied();
    if (!token.policies.includes('root')) {
      const caps = capabilitiesFor(policiesOf(token), nsPath + path);
      const needed: Capability = op === 'patch' ? 'patch' : op;
      if (!caps.has(needed) || (sudo && !caps.has('sudo'))) throw permissionDenied();
    }
    tokens.use(token);
    return token;
  }

  function systemRoute(path: string, op: Operation): Result | undefined {
    if (path === 'sys/health') {
      const h = health(seal);
      return json(h.body, h.status);
    }
    if (path === 'sys/seal-status') return json(sealStatus(seal));
    if (path === 'sys/unseal' && op === 'update') return undefined; // handled with body below
    return undefined;
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://vault.local');
    if (!url.pathname.startsWith('/v1/')) throw new VaultHttpError(404, []);
    const path = decodeURIComponent(url.pathname.slice(4)).replace(/^\/+/, '');
    const nsPath = normaliseNsPath(req.headers['x-vault-namespace'] as string | undefined);
    const key = nsPath + path;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    total += 1;
    if (latencyMs > 0) await sleep(latencyMs);

    let op = operationOf(req.method ?? 'GET', url.searchParams);
    if (!op) throw unsupportedOperation();
    const body = op === 'update' || op === 'patch' ? await readBody(req) : {};
    if (seal.sealed && !SEALED_ALLOWED.has(path)) throw sealedError();

    const early = systemRoute(path, op);
    if (early) return respond(res, early, 'system');
    if (path === 'sys/unseal' && op === 'update') {
      if (body.reset === true) return respond(res, json(sealStatus(seal)), 'system');
      if (body.key !== seal.unsealKey) throw badRequest('Unseal failed, invalid key');
      seal.sealed = false;
      return respond(res, json(sealStatus(seal)), 'system');
    }
    if (path === 'sys/seal' && op === 'update') {
      authorize(tokenFrom(req), nsPath, path, op, true);
      seal.sealed = true;
      return respond(res, {}, 'system');
    }

    const ns = namespaces.get(nsPath);
    const { route, mounted, mountType } = resolve(ns, path);
    if ((op === 'update' || op === 'create') && route?.exists) op = route.exists() ? 'update' : 'create';
    const token = route?.unauthenticated ? undefined : authorize(tokenFrom(req), nsPath, path, op, route?.sudo ?? false);
    if (!route) throw mounted ? unsupportedPath() : noRoute(path);
    const handler = handlerFor(route, op);
    if (!handler) throw unsupportedOperation();
    const tlsSocket = req.socket as TLSSocket;
    const peer = typeof tlsSocket.getPeerCertificate === 'function' ? tlsSocket.getPeerCertificate(false) : undefined;
    const request: Request = {
      op,
      path,
      body,
      query: url.searchParams,
      token,
      clientCert: peer && peer.raw ? peer : undefined,
    };
    const result = await handler(request);
    respond(res, result ?? {}, mountType);
  }

  function respond(res: http.ServerResponse, result: Result, mountType: string): void {
    if (result.raw) {
      const status = result.status ?? (result.raw.body === '' ? 204 : 200);
      send(res, status, result.raw.contentType, result.raw.body);
      return;
    }
    const empty = !result.data && !result.auth && !(result.warnings && result.warnings.length);
    if (empty) {
      send(res, 204, undefined, '');
      return;
    }
    const envelope = {
      request_id: randomUUID(),
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: result.data ?? null,
      wrap_info: null,
      warnings: result.warnings && result.warnings.length ? result.warnings : null,
      auth: result.auth ?? null,
      mount_type: mountType,
    };
    send(res, result.status ?? 200, 'application/json', `${JSON.stringify(envelope)}\n`);
  }

  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof VaultHttpError) return sendError(res, err);
      // Vault's internal errors are 500 with the message; nothing secret is in ours.
      sendError(res, new VaultHttpError(500, [err instanceof Error ? err.message : String(err)]));
    });
  };

  let tls: ListenerTls | undefined;
  if (opts.tls === true) tls = await makeListenerTls();
  else if (opts.tls) tls = { certPem: opts.tls.certPem, keyPem: opts.tls.keyPem, caCertPem: opts.tls.caCertPem ?? '' };
  const server = tls
    ? https.createServer({ cert: tls.certPem, key: tls.keyPem, requestCert: true, rejectUnauthorized: false }, listener)
    : http.createServer(listener);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolveListen, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolveListen());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    address: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    rootToken: root.id,
    caCertPem: tls?.caCertPem || undefined,
    unsealKey: seal.unsealKey,
    async stop() {
      await new Promise<void>((resolveClose) => {
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
    },
    seal() {
      seal.sealed = true;
    },
    unseal() {
      seal.sealed = false;
    },
    setLatency(ms: number) {
      latencyMs = ms;
    },
    stats() {
      return { total, byPath: Object.fromEntries(counts) };
    },
  };
}

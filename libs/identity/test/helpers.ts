import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import type { MeshSpec, Mtls } from '@meshca/api';
import { builtinCaWrites } from '@meshca/ca';
import { createLogger, createSelfSignedServerTls } from '@meshca/common';
import { createTokenIssuer, generateSigningKey, type TokenIssuer } from '@meshca/tokens';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import {
  attachDataplaneServer, createIdentityService, decodeZoneMessage,
  type DataplaneDocument, type IdentityService, type IdentityServiceOptions, type ZoneMessage,
} from '../src/index.js';

export const log = createLogger({ name: 'identity-test', level: 'silent', pretty: false });

export interface TestZone {
  url: string;
  caPem: string;
  store: ResourceStore;
  service: IdentityService;
  tokens: TokenIssuer;
  server: Server;
  close(): Promise<void>;
}

let serverTls: Promise<{ certPem: string; keyPem: string; caPem: string }> | undefined;

export async function startZone(options: Partial<IdentityServiceOptions> = {}): Promise<TestZone> {
  serverTls ??= createSelfSignedServerTls('zone', ['127.0.0.1', 'localhost']);
  const tls = await serverTls;
  const store = options.store ?? createMemoryStore();
  const tokens = createTokenIssuer({ keys: [await generateSigningKey()] });
  const service = createIdentityService({
    store,
    zone: 'zone-1',
    log,
    workers: 0,
    verifyToken: (t) => tokens.verify(t, 'dataplane'),
    graceMs: 300,
    insightIntervalMs: 100,
    retry: { baseMs: 200, maxMs: 1000 },
    rotationSpreadMs: 200,
    ...options,
  });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  const mounted = attachDataplaneServer(service, { server, path: '/dataplanes' });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}/dataplanes`,
    caPem: tls.caPem,
    store,
    service,
    tokens,
    server,
    async close() {
      mounted.close();
      await service.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
    },
  };
}

/** Applies a Mesh the way global does: the Mesh and its new builtin CA Secrets in one commit. */
export async function applyMesh(store: ResourceStore, mesh: string, mtls: Mtls | undefined): Promise<void> {
  const spec: MeshSpec = mtls ? { mtls } : {};
  const existing = await store.get({ type: 'Mesh', name: mesh });
  const input = { meta: { type: 'Mesh' as const, name: mesh }, spec };
  await store.commit([
    ...(await builtinCaWrites({ store, mesh, spec, log })),
    existing ? { op: 'update', input, expectedVersion: existing.meta.version } : { op: 'create', input },
  ]);
}

export function builtin(name: string, expiration?: string): Mtls['backends'][number] {
  return { name, type: 'builtin', ...(expiration ? { dpCert: { rotation: { expiration } } } : {}), conf: {} };
}

export function dataplane(name: string, tags: Record<string, string>, mesh = 'default'): DataplaneDocument {
  return { type: 'Dataplane', mesh, name, networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags }] } };
}

/** A raw protocol client: every frame from the zone is queued and can be awaited by type. */
export interface RawClient {
  ws: WebSocket;
  frames: string[];
  messages: ZoneMessage[];
  next<T extends ZoneMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<ZoneMessage, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

export function connectRaw(zone: TestZone, token: string | undefined): Promise<RawClient> {
  const ws = new WebSocket(zone.url, {
    ca: zone.caPem,
    perMessageDeflate: false,
    ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  const frames: string[] = [];
  const messages: ZoneMessage[] = [];
  let cursor = 0;
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(String(data));
    messages.push(decodeZoneMessage(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  const client: RawClient = {
    ws,
    frames,
    messages,
    closed,
    send: (m) => ws.send(JSON.stringify(m)),
    async next(type, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < messages.length) {
          const m = messages[cursor++] as ZoneMessage;
          if (m.type === type) return m as never;
          if (m.type === 'refused') throw new Error(`refused: ${m.message}`);
        }
        if (Date.now() > deadline) throw new Error(`no ${type} message within ${timeoutMs} ms (got ${messages.map((m) => m.type).join(', ')})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

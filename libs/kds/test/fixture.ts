// Real TLS, real WebSockets on 127.0.0.1, real memory stores: one global and any number of zones.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { pino, type Logger } from 'pino';
import WebSocket from 'ws';
import type { ResourceInput } from '@meshca/api';
import { createSelfSignedServerTls } from '@meshca/common';
import { createTokenIssuer, generateSigningKey, type SigningKey, type TokenIssuer } from '@meshca/tokens';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { eventually } from '@meshca/test/eventually';
import {
  createKdsClient,
  createKdsServer,
  decode,
  encode,
  frameText,
  zoneTokenAuthenticator,
  type KdsClient,
  type KdsClientOptions,
  type KdsMessage,
  type KdsServer,
  type KdsServerOptions,
} from '../src/index.js';

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { logger, lines };
}

export interface Env {
  tls: { caPem: string; certPem: string; keyPem: string };
  caPem: string;
  keys: SigningKey[];
  issuer: TokenIssuer;
  revoked: Set<string>;
  cleanups: (() => Promise<void> | void)[];
}

export async function createEnv(): Promise<Env> {
  const tls = await createSelfSignedServerTls('kds-test', ['127.0.0.1']);
  const keys = [await generateSigningKey()];
  const revoked = new Set<string>();
  return { tls, caPem: tls.caPem, keys, issuer: createTokenIssuer({ keys, revoked }), revoked, cleanups: [] };
}

export async function cleanup(env: Env): Promise<void> {
  for (const fn of env.cleanups.splice(0).reverse()) await fn();
}

export interface Global {
  store: ResourceStore;
  kds: KdsServer;
  url: string;
  lines: LogLine[];
  server: Server;
  port: number;
  /** Closes the KDS server and its port (a global going away). */
  stop(): Promise<void>;
}

export async function startGlobal(
  env: Env,
  opts: Partial<KdsServerOptions> & { feedRetention?: number; port?: number } = {},
): Promise<Global> {
  const { tls } = env;
  const store = opts.store ?? createMemoryStore(opts.feedRetention === undefined ? {} : { feedRetention: opts.feedRetention });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  await new Promise<void>((r) => server.listen(opts.port ?? 0, '127.0.0.1', r));
  const { logger, lines } = captureLogger();
  const kds = createKdsServer({ authenticate: zoneTokenAuthenticator(env.issuer), logger, ...opts, server, store });
  const port = (server.address() as AddressInfo).port;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kds.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  };
  env.cleanups.push(stop);
  return { store, kds, url: `wss://127.0.0.1:${port}/kds`, port, lines, server, stop };
}

export interface Zone {
  store: ResourceStore;
  client: KdsClient;
  lines: LogLine[];
}

export async function startZone(env: Env, global: Global, zone: string, opts: Partial<KdsClientOptions> = {}): Promise<Zone> {
  const store = opts.store ?? createMemoryStore();
  const { logger, lines } = captureLogger();
  const token = opts.token ?? (await env.issuer.issueZoneToken({ zone, validFor: 3600 }));
  const client = createKdsClient({
    url: global.url,
    zone,
    ca: env.caPem,
    logger,
    backoff: { initialMs: 50, maxMs: 400 },
    ...opts,
    token,
    store,
  });
  client.start();
  env.cleanups.push(() => client.stop());
  return { store, client, lines };
}

export const mesh = (name: string, extra: Record<string, unknown> = {}): ResourceInput => ({
  meta: { type: 'Mesh', name },
  spec: { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin', conf: {} }] }, ...extra },
});

export const secret = (mesh: string, name: string, data: string): ResourceInput => ({
  meta: { type: 'Secret', mesh, name },
  spec: { data: Buffer.from(data).toString('base64') },
});

/** A hand-driven zone speaking the raw protocol, for assertions on the wire. */
export interface RawPeer {
  ws: WebSocket;
  received: KdsMessage[];
  closed: Promise<{ code: number; reason: string }>;
  send(msg: KdsMessage): void;
  next(pred: (m: KdsMessage) => boolean): Promise<KdsMessage>;
}

export async function rawPeer(env: Env, global: Global, token: string | undefined): Promise<RawPeer> {
  const ws = new WebSocket(global.url, {
    ca: env.caPem,
    ...(token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } }),
  });
  const received: KdsMessage[] = [];
  ws.on('message', (data, isBinary) => {
    if (!isBinary) received.push(decode(frameText(data)));
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => undefined);
  env.cleanups.push(() => {
    ws.terminate();
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    received,
    closed,
    send: (msg) => ws.send(encode(msg)),
    next: (pred) =>
      eventually(() => {
        const found = received.find(pred);
        if (found === undefined) throw new Error(`no matching message; received ${received.map((m) => m.type).join(', ')}`);
        return found;
      }),
  };
}

export const hello = (zone: string, lastRevision = 0): KdsMessage => ({
  type: 'hello',
  protocol: 1,
  zone,
  lastRevision,
  software: { name: 'test', version: '0' },
});

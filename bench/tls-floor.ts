// The floor under the dataplane figures: what a bare Node server with no meshca code in it costs per
// connection it holds, measured the same way as bench/dataplanes.ts measures the zone.
// Run: node --import tsx bench/tls-floor.ts [--connections 10000] [--only tls,wss,ws] [--reply BYTES [--fragment BYTES]] [--json]
//
// Three servers, each in its own child process (RSS is its own): `tls` is a node:tls echo server
// (the least any Node TLS server holds per connection), `wss` is node:https + ws echoing one
// message (the shape of the zone's dataplane port without the identity service), `ws` is the same
// over plain http. Each client opens a connection, sends one 300-byte message and waits for its
// echo; the connections then stay open while the server's RSS and heap are read after a forced GC.
// --reply makes the ws servers answer with that many bytes instead (an identity message is ~3 KB),
// --fragment sends that answer as WebSocket fragments of at most that size, each after the last
// was written, as the zone does (libs/identity/src/small-frames.ts).
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket, { WebSocketServer } from 'ws';
import { flag } from './flags.js';

export const FLOOR_MODES = ['tls', 'wss', 'ws'] as const;
export type FloorMode = (typeof FLOOR_MODES)[number];

export interface FloorOptions {
  /** Bytes the ws servers answer with; default: the message echoed (300 bytes). */
  replyBytes?: number;
  /** Send the answer as fragments of at most this many bytes, one after the other. */
  fragmentBytes?: number;
}

export interface FloorResult extends FloorOptions {
  mode: FloorMode;
  connections: number;
  /** First connect to the last echo received, clients on the same cores. */
  connectAllMs: number;
  /** CPU of the server's event loop thread for those connections. */
  serverMainThreadCpuMs: number;
  /** Server RSS growth per open connection, bytes (forced GC before both readings). */
  rssPerConnection: number;
  heapPerConnection: number;
}

type FromChild = { op: 'ready'; port: number } | { op: 'memory'; rss: number; heapUsed: number; mainThreadCpuMs: number };
const SELF = fileURLToPath(import.meta.url);
const MESSAGE = 'x'.repeat(300);

// ---------------------------------------------------------------- server (child process)

async function serve(mode: FloorMode, opts: FloorOptions): Promise<void> {
  const { createSelfSignedServerTls } = await import('@meshca/common');
  const creds = await createSelfSignedServerTls('floor', ['127.0.0.1']);
  let server: NetServer;
  if (mode === 'tls') {
    server = createTlsServer({ cert: creds.certPem, key: creds.keyPem }, (socket) => {
      socket.on('data', (d) => socket.write(d));
      socket.on('error', () => {});
    });
  } else {
    const http = mode === 'wss' ? createHttpsServer({ cert: creds.certPem, key: creds.keyPem }) : createHttpServer();
    const reply = opts.replyBytes === undefined ? undefined : Buffer.alloc(opts.replyBytes, 'y');
    const step = opts.fragmentBytes ?? Number.POSITIVE_INFINITY;
    const answer = (ws: WebSocket, data: Buffer, offset = 0): void => {
      const end = Math.min(offset + step, data.length);
      const fin = end === data.length;
      ws.send(data.subarray(offset, end), { binary: false, fin }, () => (fin ? undefined : answer(ws, data, end)));
    };
    new WebSocketServer({ server: http }).on('connection', (ws) => ws.on('message', (m: Buffer) => answer(ws, reply ?? m)));
    server = http;
  }
  await new Promise<void>((r) => server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, r));
  process.on('message', () => {
    const mainThreadCpuMs = mainThreadCpu();
    for (let i = 0; i < 3; i++) globalThis.gc?.();
    const m = process.memoryUsage();
    process.send?.({ op: 'memory', rss: m.rss, heapUsed: m.heapUsed, mainThreadCpuMs } satisfies FromChild);
  });
  process.send?.({ op: 'ready', port: (server.address() as AddressInfo).port } satisfies FromChild);
}

function mainThreadCpu(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

// ---------------------------------------------------------------- clients (this process)

function next(child: ChildProcess): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    child.once('message', (m: FromChild) => resolve(m));
    child.once('exit', (code) => reject(new Error(`floor server exited with ${code}`)));
  });
}

function openOne(mode: FloorMode, port: number, held: { close(): void }[]): Promise<void> {
  return new Promise((resolve, reject) => {
    if (mode === 'tls') {
      const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => s.write(MESSAGE));
      s.once('data', () => resolve());
      s.once('error', reject);
      held.push({ close: () => s.destroy() });
      return;
    }
    const ws = new WebSocket(`${mode}://127.0.0.1:${port}/`, { rejectUnauthorized: false, perMessageDeflate: false });
    ws.once('open', () => ws.send(MESSAGE));
    ws.once('message', () => resolve());
    ws.once('error', reject);
    held.push({ close: () => ws.terminate() });
  });
}

export async function runFloor(mode: FloorMode, connections: number, opts: FloorOptions = {}, concurrency = 200): Promise<FloorResult> {
  const child = fork(SELF, ['--serve', mode, JSON.stringify(opts)], {
    execArgv: ['--expose-gc', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const held: { close(): void }[] = [];
  try {
    const ready = await next(child);
    if (ready.op !== 'ready') throw new Error('floor server: unexpected message');
    child.send('memory');
    const idle = await next(child);
    if (idle.op !== 'memory') throw new Error('floor server: unexpected message');
    const start = performance.now();
    let i = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (i < connections) {
          i++;
          await openOne(mode, ready.port, held);
        }
      }),
    );
    const connectAllMs = performance.now() - start;
    child.send('memory');
    const loaded = await next(child);
    if (loaded.op !== 'memory') throw new Error('floor server: unexpected message');
    return {
      mode,
      ...(mode === 'tls' ? {} : opts),
      connections,
      connectAllMs: Math.round(connectAllMs),
      serverMainThreadCpuMs: Math.round(loaded.mainThreadCpuMs - idle.mainThreadCpuMs),
      rssPerConnection: Math.round((loaded.rss - idle.rss) / connections),
      heapPerConnection: Math.round((loaded.heapUsed - idle.heapUsed) / connections),
    };
  } finally {
    for (const h of held) h.close();
    child.kill();
  }
}

export async function runFloors(
  connections: number,
  modes: readonly FloorMode[] = FLOOR_MODES,
  opts: FloorOptions = {},
): Promise<FloorResult[]> {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n']).toString().trim());
  if (limit < connections + 200)
    throw new Error(`ulimit -n is ${limit}: raise it (ulimit -n ${connections + 1000}) or pass --connections ${limit - 200}`);
  const out: FloorResult[] = [];
  for (const mode of modes) out.push(await runFloor(mode, connections, opts));
  return out;
}

export function formatFloors(rs: FloorResult[]): string {
  const label: Record<FloorMode, string> = { tls: 'bare node:tls echo', wss: 'bare https + ws', ws: 'bare http + ws (plain)' };
  return rs
    .map(
      (r) =>
        `${label[r.mode].padEnd(24)} ${r.connections} conns${r.replyBytes === undefined ? '' : `, ${r.replyBytes} B answers${r.fragmentBytes === undefined ? '' : ` in ${r.fragmentBytes} B fragments`}`}: RSS ${(r.rssPerConnection / 1024).toFixed(1)} KB/conn (heap ${(r.heapPerConnection / 1024).toFixed(1)} KB), all connected in ${(r.connectAllMs / 1000).toFixed(1)} s, server event loop ${(r.serverMainThreadCpuMs / 1000).toFixed(1)} s CPU`,
    )
    .join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const serveAt = process.argv.indexOf('--serve');
  if (serveAt >= 0) {
    void serve(process.argv[serveAt + 1] as FloorMode, JSON.parse(process.argv[serveAt + 2] ?? '{}') as FloorOptions);
  } else {
    const modes = (flag('only')?.split(',') ?? [...FLOOR_MODES]) as FloorMode[];
    const bad = modes.filter((m) => !FLOOR_MODES.includes(m));
    if (bad.length > 0) throw new Error(`--only ${bad.join(',')}: the floors are ${FLOOR_MODES.join(', ')}`);
    const count = (name: string): number | undefined => {
      const v = flag(name);
      if (v === undefined) return undefined;
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} ${v}: give a positive whole number`);
      return n;
    };
    const opts: FloorOptions = {};
    const reply = count('reply');
    const fragment = count('fragment');
    if (reply !== undefined) opts.replyBytes = reply;
    if (fragment !== undefined) opts.fragmentBytes = fragment;
    const rs = await runFloors(count('connections') ?? 10_000, modes, opts);
    process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(rs)}\n` : `${formatFloors(rs)}\n`);
    process.exit(0);
  }
}

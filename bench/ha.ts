// Zone failover with real processes: two replicas of a zone on one Redis, 1,000 dataplanes on the
// first (the leader). kill -9 of it: how long until the other holds the lease and the KDS stream,
// and until every dataplane is re-attached to it and holds a certificate it issued.
// Run: node --import tsx bench/ha.ts [--dataplanes 1000] [--lease 10s]
import WebSocket from 'ws';
import { createClient } from '../apps/ctl/src/client.js';
import { eventually } from '../test/src/eventually.js';
import { startGlobalProcess, syncCaFileOf, syncUrlOf } from '../test/src/global-process.js';
import { startRedisServer } from '../test/src/redis-server.js';
import { startZoneProcess, writeTokenFile, type ZoneProcess } from '../test/src/zone-process.js';
import { flag } from './flags.js';

export interface HaBenchResult {
  leaseMs: number;
  dataplanes: number;
  /** kill -9 of the leading replica to the other leading with its KDS stream connected, ms. */
  failoverMs: number;
  /** kill -9 to every dataplane re-registered on the other replica and issued a certificate there, ms. */
  reattachMs: number;
}

export const HA_TARGETS = { overLeaseMs: 1000, reattachMs: 10_000 } as const;

async function statusOf(z: ZoneProcess): Promise<{ leader?: { me: boolean }; kds: { connected: boolean } }> {
  const api = await createClient({ name: 'z', address: z.apiUrl, tokenFile: z.adminTokenFile, caCertFile: z.caFile });
  return (await api.call<{ leader?: { me: boolean }; kds: { connected: boolean } }>('GET', '/status')).body;
}

export async function runHaBench(opts: { dataplanes?: number; leaseMs?: number } = {}): Promise<HaBenchResult> {
  const n = opts.dataplanes ?? 1000;
  const leaseMs = opts.leaseMs ?? 10_000;
  const redis = await startRedisServer();
  const global = await startGlobalProcess({ env: { MESHCA_LOG_LEVEL: 'info' } });
  const replicas: ZoneProcess[] = [];
  const sockets = new Set<WebSocket>();
  try {
    const admin = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.tokenFile, caCertFile: global.caFile });
    await admin.call('PUT', '/meshes/default', {
      type: 'Mesh',
      name: 'default',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
    });
    const tokenFile = await writeTokenFile(await admin.callText('POST', '/tokens/zone', { zone: 'east', validFor: '1h' }));
    for (let i = 0; i < 2; i++) {
      replicas.push(
        await startZoneProcess({
          zone: 'east',
          global: syncUrlOf(global),
          globalCaFile: syncCaFileOf(global),
          zoneTokenFile: tokenFile,
          store: `${redis.url}?prefix=east:`,
          ...(i > 0 ? { dataDir: replicas[0]!.dataDir } : {}),
          extraArgs: ['--leader-lease', `${leaseMs}ms`],
          env: { MESHCA_LOG_LEVEL: 'info' },
        }),
      );
    }
    const [first, second] = replicas as [ZoneProcess, ZoneProcess];
    await eventually(async () => {
      if ((await statusOf(first)).leader?.me !== true) throw new Error('the first replica does not lead yet');
    }, 30_000);
    const tokens: string[] = [];
    for (let i = 0; i < n; i++) {
      tokens.push(
        await admin.callText('POST', '/tokens/dataplane', {
          mesh: 'default',
          name: `dp-${i}`,
          tags: { 'kuma.io/service': 'svc' },
          validFor: '1h',
        }),
      );
    }
    // Each dataplane dials the first replica, and the second once the first is gone (as meshca-dp with two --zone).
    const urls = replicas.map((r) => `${r.apiUrl.replace('https:', 'wss:')}/dataplanes`);
    const onSecond = new Set<number>();
    let allOnSecond: () => void = () => {};
    // Resolves with the moment the last one got its certificate from the second replica.
    const everyoneMoved = new Promise<number>((r) => (allOnSecond = () => r(Date.now())));
    const attach = (i: number, replica: number): Promise<void> =>
      new Promise((resolve) => {
        const ws = new WebSocket(urls[replica]!, {
          headers: { authorization: `Bearer ${tokens[i]}` },
          rejectUnauthorized: false,
          perMessageDeflate: false,
        });
        sockets.add(ws);
        ws.once('open', () =>
          ws.send(
            JSON.stringify({
              type: 'register',
              dataplane: {
                mesh: 'default',
                name: `dp-${i}`,
                networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'svc' } }] },
              },
            }),
          ),
        );
        ws.on('message', (data) => {
          if (!String(data).startsWith('{"type":"identity"')) return;
          if (replica === 1 && !onSecond.has(i)) {
            onSecond.add(i);
            if (onSecond.size === n) allOnSecond();
          }
          resolve();
        });
        ws.once('close', () => {
          sockets.delete(ws);
          // A small random delay, as the agent's backoff spreads reconnections.
          if (replica === 0) setTimeout(() => void attach(i, 1), Math.random() * 250);
        });
        ws.once('error', () => {});
      });
    for (let i = 0; i < n; i += 100) await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => attach(i + k, 0)));

    const killedAt = Date.now();
    first.child.kill('SIGKILL');
    let failoverMs = NaN;
    await eventually(
      async () => {
        const s = await statusOf(second);
        if (s.leader?.me !== true || !s.kds.connected) throw new Error('not leading yet');
        failoverMs = Date.now() - killedAt;
      },
      leaseMs + 30_000,
      50,
    );
    const movedAt = await Promise.race([
      everyoneMoved,
      new Promise<never>((_, no) => setTimeout(() => no(new Error(`${onSecond.size}/${n} re-attached`)), 60_000)),
    ]);
    const reattachMs = movedAt - killedAt;
    return { leaseMs, dataplanes: n, failoverMs, reattachMs };
  } finally {
    for (const ws of sockets) ws.terminate();
    for (const r of replicas) await r.stop('SIGKILL');
    await global.stop();
    await redis.stop();
  }
}

export function formatHaBench(r: HaBenchResult): string {
  return [
    `zone failover, kill -9 of the leader to the other replica streaming: ${r.failoverMs} ms (lease ${r.leaseMs} ms)`,
    `${r.dataplanes} dataplanes re-attached to the other replica, all holding a certificate from it: ${r.reattachMs} ms after the kill`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const lease = flag('lease');
  console.log(
    formatHaBench(
      await runHaBench({
        ...(flag('dataplanes') ? { dataplanes: Number(flag('dataplanes')) } : {}),
        ...(lease ? { leaseMs: Number(lease.replace(/s$/, '')) * 1000 } : {}),
      }),
    ),
  );
}

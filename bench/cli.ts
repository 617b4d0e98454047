// The built binaries as an operator meets them: how long `meshctl get meshes` takes, and how much
// memory an idle `meshca-dp` and an idle zone with no dataplanes hold, each next to the same
// figure for `node -e 0` measured in the same run (the runtime's own floor).
// Run: node --import tsx bench/cli.ts   (builds first; about 70 s)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, configureMeshctl } from '../test/src/binaries.js';
import { eventually } from '../test/src/eventually.js';
import { startGlobalProcess, syncCaFileOf, syncUrlOf } from '../test/src/global-process.js';
import { startZoneProcess, writeTokenFile } from '../test/src/zone-process.js';
import { createClient } from '../apps/ctl/src/client.js';

/** Issue 17's targets. */
export const CLI_TARGETS = { meshctlMs: 150, dpRss: 45 * 2 ** 20, zoneRss: 70 * 2 ** 20 } as const;

export interface CliBenchResult {
  calls: number;
  /** Median wall time of one `meshctl get meshes` against a running global, ms. */
  meshctlMs: number;
  /** Median wall time of `node -e 0`, ms. */
  nodeMs: number;
  /** RSS of an idle meshca-dp holding its certificate, bytes. */
  dpRss: number;
  /** RSS of an idle zone connected to global with no dataplanes, bytes. */
  zoneRss: number;
  /** RSS of `node -e 0` at its end, bytes. */
  nodeRss: number;
  /** RSS of a bare node holding what an agent holds at least: one registered TLS WebSocket to the zone (ws, no meshca code). */
  wsFloorRss: number;
  /** RSS of a bare node holding one TLS connection to the zone (no WebSocket, no meshca code). */
  tlsFloorRss: number;
}

const TLS_FLOOR = `
const [host, port, ca] = process.argv.slice(1);
require('tls').connect({ host, port: Number(port), servername: 'localhost', ca: require('fs').readFileSync(ca) });
setInterval(() => {}, 1 << 30);
`;

/** The agent's floor: node, the ws package, one TLS connection registered as a dataplane, idle. */
const WS_FLOOR = `
const WebSocket = require('ws');
const [url, ca, token] = process.argv.slice(1);
const ws = new WebSocket(url, { ca: require('fs').readFileSync(ca), headers: { authorization: 'Bearer ' + token }, perMessageDeflate: false });
ws.on('open', () => ws.send(JSON.stringify({ type: 'register', dataplane: { mesh: 'default', name: 'floor-1',
  networking: { address: '127.0.0.1', inbound: [{ port: 9001, tags: { 'kuma.io/service': 'floor' } }] } } })));
ws.on('message', () => {});
setInterval(() => {}, 1 << 30);
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

function wallMs(args: string[], env: NodeJS.ProcessEnv): number {
  const started = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr.toString()}`);
  return ms;
}

async function rssOf(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  if (kb === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kb) * 1024;
}

/** RSS after it has been idle for a while (startup garbage collected, as a long-running process is). */
async function idleRss(pid: number, idleMs: number): Promise<number> {
  await sleep(idleMs);
  return rssOf(pid);
}

export async function runCliBench(opts: { calls?: number; idleMs?: number } = {}): Promise<CliBenchResult> {
  const calls = opts.calls ?? 15;
  // Long enough for V8's memory reducer, which shrinks the heap of an idle process 10-20 s after
  // its last burst of work (measured: a zone drops from about 75 to 61 MB 16 s after start).
  const idleMs = opts.idleMs ?? 25_000;
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs')], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('npm run build failed');

  const nodeRss = Number(spawnSync(process.execPath, ['-p', 'process.memoryUsage.rss()'], { encoding: 'utf8' }).stdout.trim());
  const global = await startGlobalProcess({ env: { MESHCA_LOG_LEVEL: 'info' } });
  const stops: (() => Promise<unknown>)[] = [() => global.stop()];
  try {
    const ctlEnv = { ...process.env, ...(await configureMeshctl(global)) };
    const admin = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.tokenFile, caCertFile: global.caFile });
    await admin.call('PUT', '/meshes/default', {
      type: 'Mesh',
      name: 'default',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
    });
    const meshctl = join(REPO_ROOT, 'apps/ctl/bin/meshctl.mjs');
    wallMs([meshctl, 'get', 'meshes'], ctlEnv); // warm the page cache
    const ctl: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < calls; i++) {
      ctl.push(wallMs([meshctl, 'get', 'meshes'], ctlEnv));
      bare.push(wallMs(['-e', '0'], process.env));
    }

    const zoneToken = await admin.callText('POST', '/tokens/zone', { zone: 'bench', validFor: '1h' });
    const zone = await startZoneProcess({
      zone: 'bench',
      global: syncUrlOf(global),
      globalCaFile: syncCaFileOf(global),
      zoneTokenFile: await writeTokenFile(zoneToken),
      env: { MESHCA_LOG_LEVEL: 'info' },
    });
    stops.push(() => zone.stop());
    await eventually(async () => {
      const { body } = await admin.call<{ items: { name: string; status?: string }[] }>('GET', '/zones');
      if (!body.items.some((z) => z.name === 'bench')) throw new Error('zone not listed yet');
    }, 20_000);
    const zoneRss = await idleRss(zone.child.pid!, idleMs);

    const dpToken = await admin.callText('POST', '/tokens/dataplane', {
      mesh: 'default',
      name: 'web-1',
      tags: { 'kuma.io/service': 'web' },
      validFor: '1h',
    });
    const dir = await mkdtemp(join(tmpdir(), 'meshca-bench-dp-'));
    await writeFile(join(dir, 'token'), dpToken, { mode: 0o600 });
    const dp = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'apps/dp-agent/bin/meshca-dp.mjs'),
        ...['--zone', zone.apiUrl, '--ca-file', join(zone.dataDir, 'api-ca.pem'), '--token-file', join(dir, 'token')],
        ...['--dir', dir, '--name', 'web-1', '--address', '127.0.0.1', '--inbound', 'port=9000,kuma.io/service=web', '--log-level', 'warn'],
      ],
      { stdio: ['ignore', 'inherit', 'inherit'] },
    );
    stops.push(async () => {
      dp.kill('SIGTERM');
      await new Promise((r) => dp.once('exit', r));
    });
    await eventually(() => readFile(join(dir, 'cert.pem'), 'utf8'), 20_000);
    const dpIdle = idleRss(dp.pid!, idleMs);

    const floorToken = await admin.callText('POST', '/tokens/dataplane', {
      mesh: 'default',
      name: 'floor-1',
      tags: { 'kuma.io/service': 'floor' },
      validFor: '1h',
    });
    const floor = spawn(
      process.execPath,
      ['-e', WS_FLOOR, `${zone.apiUrl.replace('https:', 'wss:')}/dataplanes`, join(zone.dataDir, 'api-ca.pem'), floorToken],
      { stdio: 'ignore', cwd: REPO_ROOT },
    );
    stops.push(async () => {
      floor.kill('SIGTERM');
      await new Promise((r) => floor.once('exit', r));
    });
    const zoneUrl = new URL(zone.apiUrl);
    const tls = spawn(process.execPath, ['-e', TLS_FLOOR, zoneUrl.hostname, zoneUrl.port, join(zone.dataDir, 'api-ca.pem')], {
      stdio: 'ignore',
    });
    stops.push(async () => {
      tls.kill('SIGTERM');
      await new Promise((r) => tls.once('exit', r));
    });
    const [dpRss, wsFloorRss, tlsFloorRss] = await Promise.all([dpIdle, idleRss(floor.pid!, idleMs), idleRss(tls.pid!, idleMs)]);
    return { calls, meshctlMs: median(ctl), nodeMs: median(bare), dpRss, zoneRss, nodeRss, wsFloorRss, tlsFloorRss };
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => {});
  }
}

export function formatCliBench(r: CliBenchResult): string {
  const mb = (b: number) => `${(b / 1024 / 1024).toFixed(1)} MB`;
  return [
    `meshctl get meshes: ${r.meshctlMs.toFixed(0)} ms (node -e 0: ${r.nodeMs.toFixed(0)} ms; median of ${r.calls})`,
    `idle meshca-dp RSS: ${mb(r.dpRss)} (bare node + ws holding one registered connection: ${mb(r.wsFloorRss)}; bare node holding one TLS connection: ${mb(r.tlsFloorRss)})`,
    `idle zone RSS (no dataplanes): ${mb(r.zoneRss)} (node -e 0: ${mb(r.nodeRss)})`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatCliBench(await runCliBench()));
}

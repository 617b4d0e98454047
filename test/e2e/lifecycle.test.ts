// SIGINT or SIGTERM to whatever a user or a supervisor started stops everything it started within
// 5 s, with no orphan: `npm start` (global, two zones, two agents, two services), each binary on
// its own, and a binary started through `npx` (npm runs it under `sh -c`, which passes no signal on).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/binaries.js';
import { eventually } from '../src/eventually.js';
import { freePort } from '../src/free-port.js';
import { startGlobalProcess } from '../src/global-process.js';
import { startMeshEnv } from '../src/mesh-env.js';

const STOP_WITHIN_MS = 5000;
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
});

/** Every process below `pid`, from /proc. */
async function descendants(pid: number): Promise<number[]> {
  const parents = new Map<number, number[]>();
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const c of parents.get(p) ?? []) {
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Sends `signal` and returns how long until none of `pids` runs (Infinity past `limitMs`; the rest are killed). */
async function stopTime(target: number, pids: number[], signal: NodeJS.Signals, limitMs = 10_000): Promise<number> {
  const started = Date.now();
  process.kill(target, signal);
  while (pids.some(alive)) {
    if (Date.now() - started > limitMs) {
      for (const p of pids.filter(alive)) process.kill(p, 'SIGKILL');
      return Infinity;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return Date.now() - started;
}

async function demoEnv(): Promise<NodeJS.ProcessEnv> {
  const dir = await mkdtemp(join(tmpdir(), 'meshca-demo-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
  const [api, sync, z1, z2, web, backend] = ports.map(String);
  return {
    ...process.env,
    MESHCA_DEMO_DIR: dir,
    MESHCA_GLOBAL_API_PORT: api,
    MESHCA_GLOBAL_SYNC_PORT: sync,
    MESHCA_ZONE1_PORT: z1,
    MESHCA_ZONE2_PORT: z2,
    MESHCA_DEMO_WEB_PORT: web,
    MESHCA_DEMO_BACKEND_PORT: backend,
    MESHCA_DEMO_INTERVAL: '300',
    MESHCA_GLOBAL_METRICS_PORT: '0',
    MESHCA_ZONE1_METRICS_PORT: '0',
    MESHCA_ZONE2_METRICS_PORT: '0',
    MESHCA_DEMO_WEB_METRICS_PORT: '0',
    MESHCA_DEMO_BACKEND_METRICS_PORT: '0',
  };
}

/** `npm start` until the two services have called each other across zones. */
async function npmStart(): Promise<{ npm: ChildProcess; pids: number[]; lines: string[] }> {
  const npm = spawn('npm', ['start', '--silent'], { cwd: REPO_ROOT, env: await demoEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(async () => {
    for (const p of await descendants(npm.pid!)) if (alive(p)) process.kill(p, 'SIGKILL');
    if (npm.exitCode === null) npm.kill('SIGKILL');
  });
  const lines: string[] = [];
  npm.stderr.on('data', (d: Buffer) => lines.push(d.toString()));
  await new Promise<void>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`npm start did not come up: ${lines.slice(-10).join('')}`)), 90_000);
    createInterface({ input: npm.stdout }).on('line', (line) => {
      lines.push(line);
      if (/\[zone-2 backend\] -> web@zone-1 ok/.test(line)) {
        clearTimeout(timer);
        ok();
      }
    });
    npm.once('exit', (code) => fail(new Error(`npm start exited ${code}: ${lines.slice(-10).join('\n')}`)));
  });
  const pids = await descendants(npm.pid!);
  return { npm, pids, lines };
}

describe('stopping what was started', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`npm start: ${signal} to npm stops all 8 processes within 5 s`, async () => {
      const { npm, pids } = await npmStart();
      // npm itself, then (exec) start.mjs, global, 2 zones, 2 agents, 2 services.
      const nodes = [];
      for (const p of pids) nodes.push(await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => ''));
      expect(nodes.filter((c) => /meshca-(global|zone|dp)\.mjs|service\.mjs|start\.mjs/.test(c))).toHaveLength(8);
      const ms = await stopTime(npm.pid!, [npm.pid!, ...pids], signal);
      expect(ms, `${signal}: processes still running after ${STOP_WITHIN_MS} ms`).toBeLessThan(STOP_WITHIN_MS);
    }, 120_000);
  }

  it('npm start: a zone stopped by hand leaves the others running, and traffic between the services goes on', async () => {
    const { npm, pids, lines } = await npmStart();
    let zone2: number | undefined;
    for (const p of pids) {
      const argv = (await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (argv.some((a) => a.endsWith('meshca-zone.mjs')) && argv.includes('zone-2')) zone2 = p;
    }
    expect(zone2).toBeDefined();
    process.kill(zone2!, 'SIGTERM');
    await eventually(() => expect(lines.join('\n')).toMatch(/\[zone-2\] exited \(0\); the others keep running/), 10_000);
    // The dataplanes keep their certificates: web in zone-1 still calls backend in zone-2.
    const seen = lines.length;
    await eventually(() => expect(lines.slice(seen).join('\n')).toMatch(/\[zone-1 web\] -> backend@zone-2 ok/), 10_000);
    expect(npm.exitCode).toBeNull();
    expect(lines.join('\n')).not.toMatch(/Stopping everything/);
    const ms = await stopTime(npm.pid!, [npm.pid!, ...pids.filter((p) => p !== zone2)], 'SIGTERM');
    expect(ms).toBeLessThan(STOP_WITHIN_MS);
  }, 120_000);

  it('each binary stops within 5 s on SIGINT and on SIGTERM, also with peers connected', async () => {
    const env = await startMeshEnv({ zones: ['east'] });
    cleanups.push(() => env.stop());
    await env.admin.call('PUT', '/meshes/default', {
      type: 'Mesh',
      name: 'default',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
    });
    const svc = await env.startService('east', { name: 'web-1', service: 'web' });
    await svc.handle.ready();
    // meshca-dp as a process, next to the zone.
    const dir = await mkdtemp(join(tmpdir(), 'meshca-dp-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, 'token'), await env.dataplaneToken({ mesh: 'default', name: 'api-1', tags: { 'kuma.io/service': 'api' } }));
    const zone = env.zones.east!;
    const dp = spawn(process.execPath, [
      join(REPO_ROOT, 'apps/dp-agent/bin/meshca-dp.mjs'),
      ...['--zone', zone.apiUrl, '--ca-file', join(zone.dataDir, 'api-ca.pem'), '--token-file', join(dir, 'token')],
      ...['--dir', dir, '--name', 'api-1', '--address', '127.0.0.1', '--inbound', 'port=9000,kuma.io/service=api'],
    ]);
    cleanups.push(async () => void (dp.exitCode === null && dp.kill('SIGKILL')));
    await eventually(() => readFile(join(dir, 'cert.pem'), 'utf8'), 20_000);

    expect(await stopTime(dp.pid!, [dp.pid!], 'SIGINT')).toBeLessThan(STOP_WITHIN_MS);
    // The zone still has the library's dataplane connected, global has the zone.
    expect(await stopTime(zone.child.pid!, [zone.child.pid!], 'SIGTERM')).toBeLessThan(STOP_WITHIN_MS);
    expect(await stopTime(env.global.child.pid!, [env.global.child.pid!], 'SIGINT')).toBeLessThan(STOP_WITHIN_MS);
    const other = await startGlobalProcess();
    expect(await stopTime(other.child.pid!, [other.child.pid!], 'SIGTERM')).toBeLessThan(STOP_WITHIN_MS);
  }, 120_000);

  it('npx meshca-global: SIGTERM to npx leaves no meshca-global behind', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'meshca-npx-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const args = [
      'meshca-global',
      '--data-dir',
      dataDir,
      '--api-address',
      '127.0.0.1',
      '--api-port',
      '0',
      '--sync-port',
      '0',
      '--metrics-address',
      '127.0.0.1:0',
    ];
    const npx = spawn('npx', args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.push(async () => {
      for (const p of await descendants(npx.pid!)) if (alive(p)) process.kill(p, 'SIGKILL');
    });
    let err = '';
    npx.stderr.on('data', (d: Buffer) => (err += d.toString()));
    await eventually(() => expect(err).toContain('"api"'), 30_000);
    const pids = await descendants(npx.pid!);
    const global = [];
    for (const p of pids) {
      const argv = (await readFile(`/proc/${p}/cmdline`, 'utf8').catch(() => '')).split('\0');
      if (/meshca-global(\.mjs)?$/.test(argv[1] ?? '')) global.push(p);
    }
    expect(global).toHaveLength(1);
    const ms = await stopTime(npx.pid!, [npx.pid!, ...pids], 'SIGTERM');
    expect(ms, 'meshca-global outlived npx').toBeLessThan(STOP_WITHIN_MS);
  }, 60_000);
});

// Global and two zones on three hosts, as an operator deploys them: one network namespace per host
// (its own host name, /etc/hosts and address in 192.0.2.0/24, TEST-NET-1, routed nowhere), joined
// by a bridge in a namespace of its own. Default certificates only: zones dial global by host name,
// agents dial their zone by host name, and the two dataplanes call each other over mTLS across the
// bridge. Namespaces, /etc/netns files and processes are removed at the end, also on failure.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/binaries.js';
import { eventually } from '../src/eventually.js';

const isRoot = process.getuid?.() === 0;
// Short and unique: interface names are limited to 15 characters.
const tag = `m${process.pid % 10_000}`;
const BRIDGE_NS = `${tag}-br`;
const HOSTS = {
  global: { ns: `${tag}-g`, ip: '192.0.2.10', name: 'global' },
  'zone-1': { ns: `${tag}-z1`, ip: '192.0.2.21', name: 'zone-1' },
  'zone-2': { ns: `${tag}-z2`, ip: '192.0.2.22', name: 'zone-2' },
} as const;
type Host = keyof typeof HOSTS;
const DOMAIN = 'meshca.test';
const fqdn = (h: Host) => `${HOSTS[h].name}.${DOMAIN}`;

const procs: ChildProcess[] = [];
let dir: string;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

async function teardown(): Promise<void> {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await Promise.all(procs.filter((p) => p.exitCode === null && p.signalCode === null).map((p) => new Promise((r) => p.once('exit', r))));
  for (const ns of [BRIDGE_NS, ...Object.values(HOSTS).map((h) => h.ns)]) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // not created
    }
    await rm(`/etc/netns/${ns}`, { recursive: true, force: true });
  }
  if (dir) await rm(dir, { recursive: true, force: true });
}

async function createHosts(): Promise<void> {
  ip('netns', 'add', BRIDGE_NS);
  ip('-n', BRIDGE_NS, 'link', 'add', 'br0', 'type', 'bridge');
  ip('-n', BRIDGE_NS, 'link', 'set', 'br0', 'up');
  const hostsFile = [
    '127.0.0.1 localhost',
    '::1 localhost',
    ...Object.keys(HOSTS).map((h) => `${HOSTS[h as Host].ip} ${fqdn(h as Host)} ${HOSTS[h as Host].name}`),
    '',
  ].join('\n');
  for (const [i, h] of Object.values(HOSTS).entries()) {
    ip('netns', 'add', h.ns);
    ip('-n', h.ns, 'link', 'set', 'lo', 'up');
    ip('link', 'add', `${tag}h${i}`, 'netns', h.ns, 'type', 'veth', 'peer', 'name', `${tag}b${i}`, 'netns', BRIDGE_NS);
    ip('-n', h.ns, 'link', 'set', `${tag}h${i}`, 'name', 'eth0');
    ip('-n', h.ns, 'addr', 'add', `${h.ip}/24`, 'dev', 'eth0');
    ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
    ip('-n', BRIDGE_NS, 'link', 'set', `${tag}b${i}`, 'master', 'br0');
    ip('-n', BRIDGE_NS, 'link', 'set', `${tag}b${i}`, 'up');
    // `ip netns exec` binds these over /etc/hosts and /etc/resolv.conf: names resolve on the "network" only.
    await mkdir(`/etc/netns/${h.ns}`, { recursive: true });
    await writeFile(`/etc/netns/${h.ns}/hosts`, hostsFile);
    await writeFile(`/etc/netns/${h.ns}/resolv.conf`, '');
  }
}

/** A process on `host`: in its network namespace and a UTS namespace carrying its host name. */
function onHost(host: Host, label: string, argv: string[]): { child: ChildProcess; lines: string[] } {
  const { ns, name } = HOSTS[host];
  const quoted = argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = spawn('ip', ['netns', 'exec', ns, 'unshare', '--uts', 'sh', '-c', `hostname ${name} && exec ${quoted}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MESHCA_LOG_LEVEL: 'info' },
  });
  procs.push(child);
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) createInterface({ input: stream }).on('line', (l) => lines.push(l));
  child.once('exit', (code, signal) => lines.push(`${label} exited (${signal ?? code})`));
  return { child, lines };
}

const node = (bin: string, ...args: string[]) => [process.execPath, join(REPO_ROOT, bin), ...args];

/** Runs meshctl on global's host against global's loopback address, with the admin token. */
function meshctl(...args: string[]): string {
  const g = join(dir, 'global');
  return execFileSync(
    'ip',
    [
      'netns',
      'exec',
      HOSTS.global.ns,
      ...node('apps/ctl/bin/meshctl.mjs', '--address', 'https://127.0.0.1:5681', '--token-file', join(g, 'admin-token')),
      '--ca-cert-file',
      join(g, 'api-ca.pem'),
      ...args,
    ],
    { encoding: 'utf8' },
  );
}

describe.skipIf(!isRoot)('global and two zones on three hosts (network namespaces, 192.0.2.0/24)', () => {
  const zones = ['zone-1', 'zone-2'] as const;
  const services: Record<string, { lines: string[] }> = {};

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshca-hosts-'));
    try {
      await createHosts();
      const global = onHost('global', 'global', node('apps/global/bin/meshca-global.mjs', '--data-dir', join(dir, 'global')));
      await eventually(() => expect(global.lines.join('\n')).toContain('"api"'), 30_000);
      meshctl('apply', '-f', join(REPO_ROOT, 'deploy/examples/mesh-builtin.yaml'));
      for (const zone of zones) {
        await writeFile(join(dir, `${zone}.token`), meshctl('generate', 'zone-token', '--zone', zone));
        onHost(
          zone,
          zone,
          node(
            'apps/zone/bin/meshca-zone.mjs',
            ...['--zone', zone, '--global', `wss://${fqdn('global')}:5685`, '--zone-token-file', join(dir, `${zone}.token`)],
            ...['--global-ca-file', join(dir, 'global', 'sync-ca.pem'), '--data-dir', join(dir, zone)],
          ),
        );
      }
      await eventually(() => {
        const table = meshctl('get', 'zones');
        for (const zone of zones) expect(table).toMatch(new RegExp(`${zone}\\s+Online`));
      }, 60_000);
      // One dataplane next to each zone: meshca-dp and the demo service it keeps a certificate for.
      const peerOf = { 'zone-1': 'zone-2', 'zone-2': 'zone-1' } as const;
      for (const zone of zones) {
        const service = zone === 'zone-1' ? 'web' : 'backend';
        const peer = peerOf[zone];
        const peerService = peer === 'zone-1' ? 'web' : 'backend';
        const dpDir = join(dir, `dp-${zone}`);
        await mkdir(dpDir, { recursive: true });
        await writeFile(
          join(dpDir, 'token'),
          meshctl('generate', 'dataplane-token', '--mesh', 'default', '--name', `${service}-1`, '--tag', `kuma.io/service=${service}`),
        );
        const svc = onHost(
          zone,
          `${service} service`,
          node(
            'deploy/demo/service.mjs',
            ...['--zone', zone, '--service', service, '--dir', dpDir, '--port', '8443', '--listen', '0.0.0.0', '--interval', '300'],
            ...['--peer', `${peerService}@${peer}=https://${fqdn(peer)}:8443`],
          ),
        );
        services[zone] = svc;
        onHost(
          zone,
          `meshca-dp ${zone}`,
          node(
            'apps/dp-agent/bin/meshca-dp.mjs',
            ...['--zone', `https://${fqdn(zone)}:5682`, '--ca-file', join(dir, zone, 'api-ca.pem'), '--token-file', join(dpDir, 'token')],
            ...['--dir', dpDir, '--name', `${service}-1`, '--address', HOSTS[zone].ip, '--inbound', `port=8443,kuma.io/service=${service}`],
            ...['--signal-pid', String(svc.child.pid), '--signal', 'SIGHUP'],
          ),
        );
      }
    } catch (err) {
      await teardown();
      throw err;
    }
  }, 180_000);

  afterAll(teardown, 60_000);

  it('zones dial global by host name with its default certificate, and both are Online', () => {
    const table = meshctl('get', 'zones');
    expect(table).toMatch(/zone-1\s+Online/);
    expect(table).toMatch(/zone-2\s+Online/);
  });

  it('the default certificates name each host, its FQDN and its address', async () => {
    const { X509Certificate } = await import('node:crypto');
    const san = (file: string) => new X509Certificate(readFileSync(file, 'utf8')).subjectAltName ?? '';
    const sync = san(join(dir, 'global', 'sync.pem'));
    expect(sync).toContain('DNS:global.meshca.test');
    expect(sync).toContain('DNS:global');
    expect(sync).toContain('IP Address:192.0.2.10');
    expect(san(join(dir, 'zone-1', 'api.pem'))).toContain('DNS:zone-1.meshca.test');
  });

  it('the two dataplanes call each other over mTLS across the bridge', async () => {
    const said = (zone: string) => services[zone]!.lines.join('\n');
    await eventually(() => {
      expect(said('zone-1'), said('zone-1').slice(-2000)).toMatch(/-> backend@zone-2 ok \(peer spiffe:\/\/default\/backend/);
      expect(said('zone-2'), said('zone-2').slice(-2000)).toMatch(/-> web@zone-1 ok \(peer spiffe:\/\/default\/web/);
    }, 60_000);
  }, 90_000);

  it('the address a zone could not verify is named, with the flag that fixes it', async () => {
    // zone-1 by its bare address: not in global's certificate? It is (every interface address).
    // A name global does not carry is the case an operator meets: an alias in /etc/hosts.
    await writeFile(`/etc/netns/${HOSTS['zone-1'].ns}/hosts`, `${HOSTS.global.ip} cp.${DOMAIN}\n127.0.0.1 localhost\n`);
    const token = join(dir, 'zone-3.token');
    await writeFile(token, meshctl('generate', 'zone-token', '--zone', 'zone-3'));
    const zone3 = onHost(
      'zone-1',
      'zone-3',
      node(
        'apps/zone/bin/meshca-zone.mjs',
        ...['--zone', 'zone-3', '--global', `wss://cp.${DOMAIN}:5685`, '--zone-token-file', token, '--api-port', '5782'],
        // zone-1 runs on this host too: its own metrics port.
        ...['--metrics-address', '127.0.0.1:0'],
        ...['--global-ca-file', join(dir, 'global', 'sync-ca.pem'), '--data-dir', join(dir, 'zone-3')],
      ),
    );
    await eventually(
      () =>
        expect(zone3.lines.join('\n')).toContain(
          `wss://cp.${DOMAIN}:5685/kds: the certificate of meshca-global does not cover \\"cp.${DOMAIN}\\"`,
        ),
      30_000,
    );
    expect(zone3.lines.join('\n')).toContain(`start meshca-global with --tls-san cp.${DOMAIN}`);
    zone3.child.kill('SIGKILL');
  });
});

// The Helm chart in deploy/kubernetes/meshca: deploy/kubernetes/verify.sh (helm lint, helm
// template, kubernetes-validate --strict; it installs helm and kubernetes-validate when missing)
// must pass, and the manifests it renders must wire meshca the way its binaries expect.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { REPO_ROOT } from '../src/binaries.js';

const DEPLOY = join(REPO_ROOT, 'deploy/kubernetes');
const CHART = join(DEPLOY, 'meshca');
// verify.sh renders with this release name and namespace.
const NS = 'meshca-system';
// scripts/deps/helm.sh installs helm there.
const ENV = { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/local/bin` };

interface Container {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface Volume {
  name: string;
  secret?: { secretName: string };
  configMap?: { name: string };
}
interface Resource {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    ports?: { name: string; port: number; targetPort: string }[];
    template?: { spec: { containers: Container[]; volumes?: Volume[] } };
    volumeClaimTemplates?: unknown[];
  };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = ENV): Promise<Run> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => ok({ code, stdout, stderr }));
  });
}

function resources(manifest: string): Resource[] {
  return parseAllDocuments(manifest)
    .map((d) => d.toJS() as Resource | null)
    .filter((r): r is Resource => r !== null);
}

function find(list: Resource[], kind: string, name: string): Resource {
  const r = list.find((x) => x.kind === kind && x.metadata.name === name);
  if (!r) throw new Error(`no ${kind} ${name} in: ${list.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')}`);
  return r;
}

function container(r: Resource): Container {
  const c = r.spec.template?.spec.containers[0];
  if (!c) throw new Error(`${r.kind} ${r.metadata.name} has no container`);
  return c;
}

/** `--flag=value` arguments as [flag, value] pairs. */
function flags(c: Container): [string, string][] {
  return (c.args ?? []).map((a) => {
    const eq = a.indexOf('=');
    return eq < 0 ? [a, ''] : [a.slice(0, eq), a.slice(eq + 1)];
  });
}

function flag(c: Container, name: string): string {
  const values = flags(c).filter(([f]) => f === name);
  expect(values, `${c.name}: ${name} once`).toHaveLength(1);
  return values[0]![1];
}

function helpOf(bin: 'global' | 'zone'): string {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, `apps/${bin}/bin/meshca-${bin}.mjs`), '--help'], { encoding: 'utf8' });
  return r.stdout;
}

const HELP = { global: helpOf('global'), zone: helpOf('zone') };
// --tls-san is being added to both binaries; where a --help does not list it yet, the flag check
// leaves it out and a todo says so (the binary would exit "unknown option '--tls-san'").
const TLS_SAN_PENDING = (['global', 'zone'] as const).filter((b) => !HELP[b].includes('--tls-san '));

function tlsSans(c: Container): string[] {
  return flags(c)
    .filter(([f]) => f === '--tls-san')
    .map(([, v]) => v);
}

let out = '';
let verify: Run;
let global: Resource[] = [];
let zone: Resource[] = [];
let both: Resource[] = [];

beforeAll(async () => {
  out = await mkdtemp(join(tmpdir(), 'meshca-helm-'));
  // Building helm from its Go module takes minutes when it is missing.
  verify = await run('bash', [join(DEPLOY, 'verify.sh')], { ...ENV, MESHCA_HELM_OUT: out });
  if (verify.code !== 0) return;
  const load = async (f: string) => resources(await readFile(join(out, `${f}.yaml`), 'utf8'));
  [global, zone, both] = await Promise.all([load('global'), load('zone'), load('both')]);
}, 900_000);

afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

describe('deploy/kubernetes/verify.sh', () => {
  it('lints, renders and validates the chart against the Kubernetes schemas', () => {
    expect(verify.code, `${verify.stdout}\n${verify.stderr}`).toBe(0);
    expect(verify.stdout).toContain('verify: OK');
  });
});

describe('the rendered chart', () => {
  it('global: --tls-san for each DNS name of its Service, whose ports are the API and sync ports', () => {
    const deploy = find(global, 'Deployment', 'meshca-global');
    const svc = find(global, 'Service', 'meshca-global');
    const c = container(deploy);
    expect(c.command).toEqual(['meshca-global']);
    expect(tlsSans(c)).toEqual([
      'meshca-global',
      `meshca-global.${NS}`,
      `meshca-global.${NS}.svc`,
      `meshca-global.${NS}.svc.cluster.local`,
    ]);
    expect(svc.spec.ports?.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['api', 5681, 'api'],
      ['sync', 5685, 'sync'],
    ]);
    expect(c.ports?.map((p) => [p.name, p.containerPort])).toEqual([
      ['api', 5681],
      ['sync', 5685],
    ]);
    expect(flag(c, '--api-port')).toBe('5681');
    expect(flag(c, '--sync-port')).toBe('5685');
  });

  it('global: extra names for zones on other clusters join the certificate names', async () => {
    const r = await run('helm', ['template', 'meshca', CHART, '-n', NS, '--set', 'global.tls.extraSans={meshca.example.com,203.0.113.7}']);
    expect(r.code, r.stderr).toBe(0);
    const sans = tlsSans(container(find(resources(r.stdout), 'Deployment', 'meshca-global')));
    expect(sans).toContain('meshca-global');
    expect(sans.slice(-2)).toEqual(['meshca.example.com', '203.0.113.7']);
  });

  it('global: its store is the chart Redis (appendonly, on a volume), and its data dir a PVC', () => {
    const c = container(find(global, 'Deployment', 'meshca-global'));
    const redisSvc = find(global, 'Service', 'meshca-redis');
    expect(flag(c, '--store')).toBe(`redis://${redisSvc.metadata.name}:6379/0`);
    const redis = find(global, 'StatefulSet', 'meshca-redis');
    expect(container(redis).image).toBe('redis:7');
    expect(container(redis).args?.join(' ')).toContain('--appendonly yes');
    expect(redis.spec.volumeClaimTemplates).toHaveLength(1);
    expect(flag(c, '--data-dir')).toBe('/var/lib/meshca');
    const pvc = find(global, 'PersistentVolumeClaim', 'meshca-global');
    const deploy = find(global, 'Deployment', 'meshca-global');
    const data = deploy.spec.template?.spec.volumes?.find((v) => v.name === 'data') as { persistentVolumeClaim?: { claimName: string } };
    expect(data.persistentVolumeClaim?.claimName).toBe(pvc.metadata.name);
  });

  it('zone: reads its token from the Secret named in values, as a file in a mounted directory', async () => {
    const check = (list: Resource[], secret: string, key: string) => {
      const deploy = find(list, 'Deployment', 'meshca-zone');
      const c = container(deploy);
      const file = flag(c, '--zone-token-file');
      expect(basename(file)).toBe(key);
      // A directory, not a subPath mount: a new token in the Secret reaches the running zone.
      const mount = c.volumeMounts?.find((m) => m.mountPath === dirname(file));
      const volume = deploy.spec.template?.spec.volumes?.find((v) => v.name === mount?.name);
      expect(volume?.secret?.secretName).toBe(secret);
    };
    const values = parse(await readFile(join(DEPLOY, 'values-zone.yaml'), 'utf8')) as {
      zone: { tokenSecret: { name: string; key: string } };
    };
    check(zone, values.zone.tokenSecret.name, values.zone.tokenSecret.key);

    const r = await run('helm', [
      'template',
      'meshca',
      CHART,
      '-n',
      NS,
      '-f',
      join(DEPLOY, 'values-zone.yaml'),
      '--set',
      'zone.tokenSecret.name=zone-1-token,zone.tokenSecret.key=jwt',
    ]);
    expect(r.code, r.stderr).toBe(0);
    check(resources(r.stdout), 'zone-1-token', 'jwt');
  });

  it('zone only: no Redis and no global, and the zone dials the global address from values', () => {
    const names = zone.map((r) => `${r.kind}/${r.metadata.name}`);
    expect(names.sort()).toEqual(['Deployment/meshca-zone', 'PersistentVolumeClaim/meshca-zone', 'Service/meshca-zone']);
    expect(zone.filter((r) => ['redis', 'global'].includes(r.metadata.labels?.['app.kubernetes.io/component'] ?? ''))).toEqual([]);
    const c = container(find(zone, 'Deployment', 'meshca-zone'));
    expect(c.command).toEqual(['meshca-zone']);
    expect(flag(c, '--zone')).toBe('zone-1');
    expect(flag(c, '--global')).toBe('wss://meshca-global.example.com:5685');
    expect(flag(c, '--store')).toBe('memory');
  });

  it('both in one release: the zone dials global by a name its sync certificate carries', () => {
    const sans = tlsSans(container(find(both, 'Deployment', 'meshca-global')));
    const dialled = new URL(flag(container(find(both, 'Deployment', 'meshca-zone')), '--global'));
    expect(dialled.protocol).toBe('wss:');
    expect(dialled.port).toBe('5685');
    expect(sans).toContain(dialled.hostname);
  });

  it('zone: a Redis store gets the zone prefix; a zone without a name does not render', async () => {
    const ok = await run('helm', [
      'template',
      'meshca',
      CHART,
      '-f',
      join(DEPLOY, 'values-zone.yaml'),
      '--set',
      'zone.store=redis://r:6379/0',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(flag(container(find(resources(ok.stdout), 'Deployment', 'meshca-zone')), '--store')).toBe('redis://r:6379/0?prefix=zone-1:');
    const bad = await run('helm', ['template', 'meshca', CHART, '--set', 'global.enabled=false,zone.enabled=true']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('zone.name is required');
  });

  it('zone: --tls-san for each DNS name of its Service, unless it serves a certificate of its own', async () => {
    const c = container(find(zone, 'Deployment', 'meshca-zone'));
    expect(tlsSans(c)).toEqual(['meshca-zone', `meshca-zone.${NS}`, `meshca-zone.${NS}.svc`, `meshca-zone.${NS}.svc.cluster.local`]);
    expect(flags(c).map(([f]) => f)).not.toContain('--tls-cert');

    const r = await run('helm', [
      'template',
      'meshca',
      CHART,
      '-f',
      join(DEPLOY, 'values-zone.yaml'),
      '--set',
      'zone.tls.secretName=zone-1-tls',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const own = container(find(resources(r.stdout), 'Deployment', 'meshca-zone'));
    expect(tlsSans(own)).toEqual([]);
    expect(flag(own, '--tls-cert')).toBe('/etc/meshca/tls/tls.crt');
    expect(flag(own, '--tls-key')).toBe('/etc/meshca/tls/tls.key');
  });

  for (const bin of ['global', 'zone'] as const) {
    it(`every flag the chart passes to meshca-${bin} is one meshca-${bin} --help lists`, () => {
      const passed = flags(container(find(both, 'Deployment', `meshca-${bin}`))).map(([f]) => f);
      expect(passed).toContain('--tls-san');
      for (const f of new Set(passed)) {
        if (f === '--tls-san' && TLS_SAN_PENDING.includes(bin)) continue;
        expect(HELP[bin], f).toContain(`${f} `);
      }
    });
  }

  for (const bin of TLS_SAN_PENDING) it.todo(`meshca-${bin} --tls-san: the chart passes it, meshca-${bin} --help does not list it yet`);
});

// deploy/container and deploy/compose: deploy/container/build.sh builds meshca:0.1.0 (and the local
// Debian base, node and Redis images it stands on) the way the Helm chart and the compose file use
// it, and deploy/compose/verify.sh brings up Redis, global and two zones with podman-compose, sees
// both zones Online through meshctl, and removes every container, network and volume it made, also
// when it fails. Where podman cannot run containers at all, the image is still checked from its
// config and its files (podman create + export need no OCI runtime), and the container tests are
// skipped with the error podman gave.
//
// Slow on a new machine (apt-get install podman, pip install podman-compose, mmdebstrap of the
// base: about a minute); about 40 s once the base image is cached.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '@meshca/test';

const BUILD = join(REPO_ROOT, 'deploy/container/build.sh');
const VERIFY = join(REPO_ROOT, 'deploy/compose/verify.sh');
const IMAGE = 'localhost/meshca:0.1.0';
const LOCAL_IMAGES = ['localhost/meshca-base:bookworm', 'localhost/meshca-node:20-bookworm', 'localhost/meshca-redis:7', IMAGE];
const BINARIES = { 'meshca-global': 'global', 'meshca-zone': 'zone', 'meshca-dp': 'dp-agent', meshctl: 'ctl' } as const;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command in the repository. After timeoutMs it is sent SIGTERM (verify.sh then removes its
 * stack) and, 60 s later, SIGKILL: nothing it started outlives the test.
 */
function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 600_000): Promise<Run> {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const term = setTimeout(() => {
    stderr += `\n[test] ${cmd} ${args.join(' ')}: still running after ${timeoutMs / 1000} s, sent SIGTERM\n`;
    child.kill('SIGTERM');
  }, timeoutMs);
  const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs + 60_000);
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => {
      clearTimeout(term);
      clearTimeout(kill);
      ok({ code, stdout, stderr });
    });
  });
}

/** podman with the settings deploy/container/podman-env.sh picks for this host (as build.sh and verify.sh use it). */
function podman(...args: string[]): Promise<Run> {
  return run('bash', ['-c', 'source deploy/container/podman-env.sh && exec podman "$@"', 'podman', ...args], {}, 300_000);
}

const output = (r: Run) => `${r.stdout}\n${r.stderr}`;

/** What is left of a compose project: containers, volumes, its network and its pod (podman-compose makes one). */
async function leftovers(project: string): Promise<string[]> {
  const label = `label=io.podman.compose.project=${project}`;
  const ps = await podman('ps', '-a', '--filter', label, '--format', '{{.Names}}');
  const volumes = await podman('volume', 'ls', '-q', '--filter', label);
  const network = await podman('network', 'exists', `${project}_default`);
  const pod = await podman('pod', 'exists', `pod_${project}`);
  return [
    ...ps.stdout.split('\n').filter(Boolean),
    ...volumes.stdout.split('\n').filter(Boolean),
    ...(network.code === 0 ? [`network ${project}_default`] : []),
    ...(pod.code === 0 ? [`pod pod_${project}`] : []),
  ];
}

let build: Run;
/** Why podman cannot run containers here (the base image does not start), or undefined when it can. */
let cannotRun: string | undefined;

beforeAll(async () => {
  // `npm run build` deletes and rewrites apps/*/dist, under any other test file that runs a binary
  // at the same time: when the bundles are there (npm test builds them first), build.sh uses them.
  const built = Object.entries(BINARIES).every(([bin, app]) => existsSync(join(REPO_ROOT, `apps/${app}/dist/${bin}.mjs`)));
  // First time on a machine: apt-get install podman, mmdebstrap of the base (about a minute).
  build = await run('bash', [BUILD, ...(built ? ['--no-npm-build'] : [])], {}, 840_000);
  if (build.code !== 0) return;
  const probe = await podman('run', '--rm', 'localhost/meshca-base:bookworm', 'true');
  if (probe.code !== 0) {
    cannotRun = `podman run --rm localhost/meshca-base:bookworm true exited ${probe.code}: ${probe.stderr.trim()}`;
    console.warn(`compose.test: podman cannot run containers on this machine, so only the image build is checked.\n${cannotRun}`);
  }
}, 900_000);

describe('deploy/container/build.sh', () => {
  it('builds meshca:0.1.0 on the local Debian base and node images, and the local Redis image', async () => {
    expect(build.code, output(build)).toBe(0);
    expect(build.stderr).toMatch(/build\.sh: image meshca:0\.1\.0 size \d/);
    for (const image of LOCAL_IMAGES) expect((await podman('image', 'exists', image)).code, image).toBe(0);
  });

  it('image config: uid 65532, the binaries on PATH, the data dir, no entrypoint, OCI labels', async () => {
    expect(build.code, output(build)).toBe(0);
    const inspect = await podman('image', 'inspect', IMAGE);
    expect(inspect.code, inspect.stderr).toBe(0);
    const [image] = JSON.parse(inspect.stdout) as {
      Config: {
        User?: string;
        Env?: string[];
        Entrypoint?: string[] | null;
        Cmd?: string[];
        WorkingDir?: string;
        ExposedPorts?: Record<string, unknown>;
        Labels?: Record<string, string>;
      };
    }[];
    const config = image!.Config;
    expect(config.User).toBe('65532:65532');
    const env = new Map((config.Env ?? []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
    expect(env.get('PATH')?.split(':')).toContain('/opt/meshca/bin');
    expect(env.get('MESHCA_DATA_DIR')).toBe('/var/lib/meshca');
    // The chart's `command: [meshca-global]` and `podman run IMAGE meshctl ...` name the binary.
    expect(config.Entrypoint ?? []).toEqual([]);
    expect(config.Cmd).toEqual(['meshca-global']);
    expect(config.WorkingDir).toBe('/var/lib/meshca');
    expect(Object.keys(config.ExposedPorts ?? {}).sort()).toEqual(['5681/tcp', '5682/tcp', '5685/tcp']);
    const labels = config.Labels ?? {};
    expect(labels['org.opencontainers.image.title']).toBe('meshca');
    expect(labels['org.opencontainers.image.version']).toBe('0.1.0');
    expect(labels['org.opencontainers.image.revision']).toMatch(/^([0-9a-f]{7,}(-dirty)?|unknown)$/);
    expect(labels['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('image files: node, the launchers and bundles under /opt/meshca, the meshca user and its data dir; no sources or node_modules', async () => {
    expect(build.code, output(build)).toBe(0);
    // A created container is exported without running it: this works where podman cannot run one.
    const created = await podman('create', IMAGE);
    expect(created.code, created.stderr).toBe(0);
    const id = created.stdout.trim();
    let listing: Run;
    let passwd: Run;
    try {
      listing = await run('bash', [
        '-c',
        'source deploy/container/podman-env.sh && podman export "$1" | tar -tv --numeric-owner -f -',
        'export',
        id,
      ]);
      passwd = await run('bash', [
        '-c',
        'source deploy/container/podman-env.sh && podman export "$1" | tar -xO -f - etc/passwd',
        'export',
        id,
      ]);
    } finally {
      await podman('rm', '-f', id);
    }
    expect(listing.code, listing.stderr).toBe(0);
    // "-rwxr-xr-x 0/0 98932688 2026-03-24 00:00 usr/local/bin/node", "lrwxrwxrwx ... a -> b"
    const entries = new Map(
      listing.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [mode, owner, , , , ...rest] = line.split(/\s+/);
          const [path, target] = rest.join(' ').split(' -> ');
          return [path!.replace(/^\.\//, '').replace(/\/$/, ''), { mode: mode!, owner: owner!, target }];
        }),
    );
    expect(entries.get('usr/local/bin/node')?.mode).toMatch(/^-rwx/);
    for (const [bin, app] of Object.entries(BINARIES)) {
      const link = entries.get(`opt/meshca/bin/${bin}`);
      expect(link?.target, bin).toBe(`../apps/${app}/bin/${bin}.mjs`);
      expect(entries.get(`opt/meshca/apps/${app}/bin/${bin}.mjs`)?.mode, bin).toMatch(/^-rwx/);
      expect(entries.has(`opt/meshca/apps/${app}/dist/${bin}.mjs`), bin).toBe(true);
    }
    for (const app of ['global', 'zone']) expect(entries.has(`opt/meshca/apps/${app}/dist/pool-worker.mjs`), app).toBe(true);
    // Only bin/ and dist/ of each app: .containerignore keeps the rest of the repository out.
    const appDirs = [...entries.keys()].filter((p) => /^opt\/meshca\/apps\/[^/]+\/[^/]+$/.test(p)).map((p) => p.split('/').at(-1));
    expect(new Set(appDirs)).toEqual(new Set(['bin', 'dist']));
    expect([...entries.keys()].filter((p) => /(^|\/)(node_modules|src|\.git|\.venv)(\/|$)/.test(p) && p.startsWith('opt/'))).toEqual([]);
    const data = entries.get('var/lib/meshca');
    expect(data?.owner).toBe('65532/65532');
    expect(data?.mode).toBe('drwx------');
    expect(passwd.stdout).toMatch(/^meshca:x:65532:65532:/m);
  });

  it('runs: meshctl --version, and every binary loads its bundle in the container', async (ctx) => {
    expect(build.code, output(build)).toBe(0);
    if (cannotRun) ctx.skip(cannotRun);
    const version = await podman('run', '--rm', IMAGE, 'meshctl', '--version');
    expect(version.code, output(version)).toBe(0);
    expect(version.stdout.trim()).toBe('0.1.0');
    const help = await podman(
      'run',
      '--rm',
      IMAGE,
      'sh',
      '-c',
      'id -u; for b in meshca-global meshca-zone meshca-dp meshctl; do "$b" --help >/dev/null || exit 1; done; echo loaded',
    );
    expect(help.code, output(help)).toBe(0);
    expect(help.stdout.split('\n')).toEqual(['65532', 'loaded', '']);
  });
});

describe('deploy/compose/verify.sh', () => {
  it('Redis, global and zone-1, zone-2 come up with one command; both zones Online; then nothing is left', async (ctx) => {
    expect(build.code, output(build)).toBe(0);
    if (cannotRun) ctx.skip(cannotRun);
    const project = `meshca-test-${process.pid}`;
    const r = await run('bash', [VERIFY, '--no-build'], { MESHCA_VERIFY_PROJECT: project }, 240_000);
    expect(r.code, output(r)).toBe(0);
    // Printed twice: from meshctl in the global container, and from the host through the published port.
    expect(r.stdout.match(/^zone-1\s+Online\b/gm), r.stdout).toHaveLength(2);
    expect(r.stdout.match(/^zone-2\s+Online\b/gm), r.stdout).toHaveLength(2);
    expect(r.stderr).toMatch(/verify\.sh: OK: zone-1 zone-2 Online \d+ s after up/);
    expect(r.stderr).toMatch(/verify\.sh: Redis holds \d+ keys/);
    expect(await leftovers(project)).toEqual([]);
  }, 300_000);

  it('fails when a zone never comes Online, prints the services logs, and still removes everything', async (ctx) => {
    expect(build.code, output(build)).toBe(0);
    if (cannotRun) ctx.skip(cannotRun);
    const project = `meshca-test-fail-${process.pid}`;
    const r = await run(
      'bash',
      [VERIFY, '--no-build'],
      { MESHCA_VERIFY_PROJECT: project, MESHCA_VERIFY_ZONES: 'zone-1 zone-2 zone-3', MESHCA_VERIFY_TIMEOUT: '30' },
      240_000,
    );
    expect(r.code, output(r)).not.toBe(0);
    expect(r.stderr).toContain('zones not Online 30 s after up');
    expect(r.stderr).toContain('verify.sh: FAILED');
    expect(r.stderr).toContain(`----- ${project}_global_1: running`);
    // The services' logs are printed (the bootstrap writes zone-1's token first).
    expect(r.stderr).toContain('bootstrap: wrote /var/lib/meshca/zone-1.token');
    expect(await leftovers(project)).toEqual([]);
  }, 300_000);
});

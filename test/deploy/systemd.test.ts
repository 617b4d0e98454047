// deploy/systemd: the units pass `systemd-analyze verify` (deploy/systemd/verify.sh), keep their
// restart, stop and hardening settings, and pass only flags the binaries accept: every `--flag` of an
// ExecStart= line or of an example env file's *_ARGS is looked up in that binary's --help, so a
// renamed flag fails here rather than at a customer's `systemctl start`.
import { spawn } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runBin } from '@meshca/test';

const DIR = join(REPO_ROOT, 'deploy/systemd');
const VERIFY = join(DIR, 'verify.sh');

type Section = Map<string, string[]>;
type Unit = Map<string, Section>;

/** A unit file: section -> key -> every value in order (continuation lines joined, comments dropped). */
function parseUnit(text: string): Unit {
  const unit: Unit = new Map();
  let section: Section | undefined;
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#') || line.startsWith(';'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    const full = pending + line;
    pending = '';
    const header = /^\[(.+)\]$/.exec(full);
    if (header) {
      section = new Map();
      unit.set(header[1]!, section);
      continue;
    }
    const eq = full.indexOf('=');
    if (!section || eq < 0) throw new Error(`not a unit file line: ${full}`);
    const key = full.slice(0, eq).trim();
    section.set(key, [...(section.get(key) ?? []), full.slice(eq + 1).trim()]);
  }
  return unit;
}

function values(unit: Unit, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The value in effect: the last assignment. */
function value(unit: Unit, section: string, key: string): string | undefined {
  return values(unit, section, key).at(-1);
}

/** Environment=NAME=VALUE defaults of a unit. */
function defaults(unit: Unit): Map<string, string> {
  return new Map(
    values(unit, 'Service', 'Environment').map((assignment) => {
      const eq = assignment.indexOf('=');
      return [assignment.slice(0, eq), assignment.slice(eq + 1)];
    }),
  );
}

function execStart(unit: Unit): string[] {
  const line = value(unit, 'Service', 'ExecStart');
  if (!line) throw new Error('no ExecStart=');
  return line.split(/\s+/).filter((word) => word !== '');
}

/** `--name` of `--name value` and `--name=value`. */
function flags(words: string[]): string[] {
  return words.filter((word) => word.startsWith('--')).map((word) => word.split('=')[0]!);
}

/** The value after a flag in ExecStart=. */
function flagValue(words: string[], flag: string): string | undefined {
  const at = words.indexOf(flag);
  return at < 0 ? undefined : words[at + 1];
}

/** Options a binary's --help lists (`  -V, --version`, `  --zone <name>  ...`). */
function helpFlags(help: string): Set<string> {
  return new Set([...help.matchAll(/^\s{2}(?:-\w, )?(--[a-z0-9][a-z0-9-]*)/gm)].map((m) => m[1]!));
}

/** `--flags` in an example env file's NAME_ARGS=... lines, commented examples included. */
function argsFlags(envFile: string, variable: string): string[] {
  const words = [...envFile.matchAll(new RegExp(`^#?\\s*${variable}=(.*)$`, 'gm'))].flatMap((m) => m[1]!.split(/\s+/));
  return flags(words);
}

/** MESHCA_* names an env file sets, commented examples included. */
function envNames(envFile: string): string[] {
  return [...envFile.matchAll(/^#?\s*(MESHCA_[A-Z0-9_]+)=/gm)].map((m) => m[1]!);
}

function run(cmd: string, args: string[]): Promise<{ code: number | null; output: string }> {
  const child = spawn(cmd, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  return new Promise((ok, fail) => {
    child.once('error', fail);
    child.once('exit', (code) => ok({ code, output }));
  });
}

const HARDENING: Record<string, string> = {
  NoNewPrivileges: 'yes',
  CapabilityBoundingSet: '',
  ProtectSystem: 'strict',
  ProtectHome: 'yes',
  PrivateTmp: 'yes',
  PrivateDevices: 'yes',
  RestrictNamespaces: 'yes',
  RestrictSUIDSGID: 'yes',
  LockPersonality: 'yes',
  SystemCallArchitectures: 'native',
  SystemCallErrorNumber: 'EPERM',
};

// The control planes also need AF_NETLINK: their generated certificates name every interface address
// (os.networkInterfaces() is getifaddrs(3), over netlink), and they exit at start without it.
const UNITS = {
  global: {
    file: 'meshca-global.service',
    bin: 'meshca-global',
    app: 'global',
    env: 'global.env.example',
    args: 'MESHCA_GLOBAL_ARGS',
    families: 'AF_INET AF_INET6 AF_UNIX AF_NETLINK',
  },
  zone: {
    file: 'meshca-zone@.service',
    bin: 'meshca-zone',
    app: 'zone',
    env: 'zone.env.example',
    args: 'MESHCA_ZONE_ARGS',
    families: 'AF_INET AF_INET6 AF_UNIX AF_NETLINK',
  },
  dp: {
    file: 'meshca-dp@.service',
    bin: 'meshca-dp',
    app: 'dp-agent',
    env: undefined,
    args: 'MESHCA_DP_ARGS',
    families: 'AF_INET AF_INET6 AF_UNIX',
  },
} as const;

const units = new Map<string, Unit>();
const envFiles = new Map<string, string>();
const help = new Map<string, string>();

beforeAll(async () => {
  for (const spec of Object.values(UNITS)) {
    units.set(spec.file, parseUnit(await readFile(join(DIR, spec.file), 'utf8')));
    if (spec.env) envFiles.set(spec.env, await readFile(join(DIR, spec.env), 'utf8'));
  }
  await Promise.all(
    Object.values(UNITS).map(async ({ bin, app }) => {
      let out = await runBin(bin, ['--help']);
      // A binary that runs a bundle says so when it is not built: read the same options from its sources.
      if (out.code !== 0 && /not built/.test(out.stderr)) {
        const viaTsx = await run(process.execPath, ['--import', 'tsx', join(REPO_ROOT, `apps/${app}/src/main.ts`), '--help']);
        out = { code: viaTsx.code, stdout: viaTsx.output, stderr: viaTsx.output };
      }
      if (out.code !== 0) throw new Error(`${bin} --help exited ${out.code}: ${out.stderr}`);
      help.set(bin, out.stdout);
    }),
  );
}, 120_000);

describe('deploy/systemd: systemd-analyze', () => {
  it('verify.sh: every unit verifies clean (templates as an instance) and gets an exposure score', async () => {
    const { code, output } = await run('bash', [VERIFY]);
    expect(code, output).toBe(0);
    for (const name of ['meshca-global.service', 'meshca-zone@east.service', 'meshca-dp@web-1.service']) {
      expect(output).toContain(`verify ${name}: ok`);
      expect(output).toMatch(new RegExp(`security ${name.replace(/[.@]/g, '\\$&')}: exposure \\d+\\.\\d+ `));
    }
  }, 600_000);

  it('verify.sh fails when systemd-analyze verify reports a problem (an unknown key only warns, exit 0)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'meshca-units-'));
    try {
      for (const file of await readdir(DIR)) if (file.endsWith('.service')) await cp(join(DIR, file), join(dir, file));
      const dp = join(dir, UNITS.dp.file);
      await writeFile(dp, (await readFile(dp, 'utf8')).replace('[Service]\n', '[Service]\nRestartSecs=5s\n'));
      const { code, output } = await run('bash', [VERIFY, dir]);
      expect(code, output).not.toBe(0);
      expect(output).toContain('verify meshca-dp@web-1.service: FAILED');
      expect(output).toContain("Unknown key 'RestartSecs'");
      expect(output).toContain('verify meshca-global.service: ok');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});

describe('deploy/systemd: unit properties', () => {
  it.each(Object.values(UNITS))('$file: restart, stop, user, ordering and hardening', ({ file, bin, families }) => {
    const unit = units.get(file)!;
    expect(['simple', 'exec']).toContain(value(unit, 'Service', 'Type'));
    expect(value(unit, 'Service', 'Restart')).toBe('on-failure');
    expect(value(unit, 'Service', 'KillSignal')).toBe('SIGTERM');
    expect(value(unit, 'Service', 'TimeoutStopSec')).toBe('10');
    // A fixed user: token files (root:meshca 0640) are re-read on every reconnect, across restarts.
    expect(value(unit, 'Service', 'User')).toBe('meshca');
    expect(value(unit, 'Service', 'Group')).toBe('meshca');
    expect(value(unit, 'Service', 'DynamicUser') ?? 'no').toBe('no');
    for (const key of ['After', 'Wants']) expect(values(unit, 'Unit', key).join(' ').split(/\s+/)).toContain('network-online.target');
    expect(value(unit, 'Install', 'WantedBy')).toBe('multi-user.target');
    for (const [key, expected] of Object.entries(HARDENING)) expect(value(unit, 'Service', key), key).toBe(expected);
    expect(value(unit, 'Service', 'RestrictAddressFamilies')).toBe(families);
    expect(values(unit, 'Service', 'SystemCallFilter')).toContain('@system-service');
    // V8's JIT writes code and then makes it executable: node aborts under W^X.
    expect(unit.get('Service')!.has('MemoryDenyWriteExecute')).toBe(false);
    expect(execStart(unit)[0]).toBe(`/opt/meshca/bin/${bin}`);
  });

  it('every variable an ExecStart= expands has a default in Environment= (never an empty argument)', () => {
    for (const { file } of Object.values(UNITS)) {
      const unit = units.get(file)!;
      const used = [...value(unit, 'Service', 'ExecStart')!.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g)].map((m) => m[1]!);
      expect(used.length, file).toBeGreaterThan(0);
      for (const name of used) expect(defaults(unit).has(name), `${file}: ${name}`).toBe(true);
    }
  });

  it('meshca-global: data dir is its StateDirectory', () => {
    const unit = units.get(UNITS.global.file)!;
    const words = execStart(unit);
    expect(value(unit, 'Service', 'StateDirectory')).toBe('meshca/global');
    expect(flagValue(words, '--data-dir')).toBe('/var/lib/meshca/global');
    expect(value(unit, 'Service', 'StateDirectoryMode')).toBe('0700');
  });

  it('meshca-zone@: the instance is the zone; token, CA, data dir and env file follow from it; one descriptor per dataplane', () => {
    const unit = units.get(UNITS.zone.file)!;
    const words = execStart(unit);
    expect(flagValue(words, '--zone')).toBe('%i');
    expect(flagValue(words, '--zone-token-file')).toBe('/etc/meshca/zone-%i.token');
    expect(flagValue(words, '--global-ca-file')).toBe('/etc/meshca/global-sync-ca.pem');
    expect(value(unit, 'Service', 'StateDirectory')).toBe('meshca/zone-%i');
    expect(flagValue(words, '--data-dir')).toBe('/var/lib/meshca/zone-%i');
    expect(values(unit, 'Service', 'EnvironmentFile')).toContain('/etc/meshca/zone-%i.env');
    expect(value(unit, 'Service', 'LimitNOFILE')).toBe('65536');
  });

  it('meshca-dp@: the instance is the dataplane; token, Dataplane file and output dir follow from it', () => {
    const unit = units.get(UNITS.dp.file)!;
    const words = execStart(unit);
    expect(flagValue(words, '--token-file')).toBe('/etc/meshca/dp-%i.token');
    expect(flagValue(words, '--dataplane-file')).toBe('/etc/meshca/dp-%i.yaml');
    expect(value(unit, 'Service', 'RuntimeDirectory')).toBe('meshca-dp/%i');
    expect(flagValue(words, '--dir')).toBe('/run/meshca-dp/%i');
    expect(value(unit, 'Service', 'RuntimeDirectoryMode')).toBe('0700');
  });
});

describe('deploy/systemd: flags and variables the binaries accept', () => {
  it.each(Object.values(UNITS))('$file: every --flag of ExecStart= and of $args is in `$bin --help`', ({ file, bin, env, args }) => {
    const accepted = helpFlags(help.get(bin)!);
    expect(accepted.size, `${bin} --help lists no options`).toBeGreaterThan(3);
    const used = new Set([...flags(execStart(units.get(file)!)), ...(env ? argsFlags(envFiles.get(env)!, args) : [])]);
    expect(used.size).toBeGreaterThan(0);
    const missing = [...used].filter((flag) => !accepted.has(flag));
    expect(missing, `flags ${bin} --help does not list`).toEqual([]);
  });

  it('zone.env.example: each variable is one meshca-zone reads (--help, in brackets) or one the unit expands', () => {
    const unit = units.get(UNITS.zone.file)!;
    const read = new Set([...help.get('meshca-zone')!.matchAll(/\[(MESHCA_[A-Z0-9_]+)/g)].map((m) => m[1]!));
    const unknown = envNames(envFiles.get(UNITS.zone.env)!).filter((name) => !read.has(name) && !defaults(unit).has(name));
    expect(unknown).toEqual([]);
  });

  it('global.env.example: each variable is one meshca-global reads (--help, in brackets, or apps/global/src) or one the unit expands', async () => {
    const unit = units.get(UNITS.global.file)!;
    const src = join(REPO_ROOT, 'apps/global/src');
    const sources = await Promise.all((await readdir(src)).filter((f) => f.endsWith('.ts')).map((f) => readFile(join(src, f), 'utf8')));
    const read = new Set([
      ...[...help.get('meshca-global')!.matchAll(/\[(MESHCA_[A-Z0-9_]+)/g)].map((m) => m[1]!),
      ...sources.flatMap((text) => [...text.matchAll(/\b(MESHCA_[A-Z0-9_]+)\b/g)].map((m) => m[1]!)),
    ]);
    const unknown = envNames(envFiles.get(UNITS.global.env)!).filter((name) => !read.has(name) && !defaults(unit).has(name));
    expect(unknown).toEqual([]);
  });
});

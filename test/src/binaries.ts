// Running the repository's binaries as a user would: control planes as long-lived processes read
// through their JSON logs, and one-shot commands such as meshctl.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface SpawnedControlPlane {
  child: ChildProcess;
  /** Every log line the process wrote, parsed. */
  logs: Record<string, unknown>[];
  /** From its "API listening" log line (`{"api": "https://..."}`). */
  apiUrl: string;
  /** Signals it and resolves with its exit code (at once when it has already exited). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Every control plane a test started and that still runs: none outlives the test process. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** Spawns a control plane binary with debug JSON logs and waits for the log line naming its API URL. */
/** `prefix`: a command to run node under (e.g. `ip netns exec NS`). */
export async function spawnControlPlane(
  label: string,
  args: string[],
  env?: Record<string, string>,
  prefix: string[] = [],
): Promise<SpawnedControlPlane> {
  const [command, ...before] = [...prefix, process.execPath];
  const child = spawn(command, [...before, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MESHCA_LOG_LEVEL: 'debug', ...env },
  });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const logs: Record<string, unknown>[] = [];
  const apiUrl = await new Promise<string>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`${label} did not start: ${JSON.stringify(logs.slice(-5))}`)), 20_000);
    createInterface({ input: child.stderr }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (typeof entry.api === 'string') {
          clearTimeout(timer);
          ok(entry.api);
        }
      } catch {
        logs.push({ raw: line });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`${label} exited with ${code}: ${JSON.stringify(logs.slice(-5))}`));
    });
  });
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
    return new Promise((ok) => {
      // A process that does not stop in 15 s is killed: a hung shutdown must not leak it.
      const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
      child.once('exit', (code) => {
        clearTimeout(kill);
        ok(code);
      });
      child.kill(signal);
    });
  };
  return { child, logs, apiUrl, stop };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a repository binary (meshctl, meshca-zone, ...) the way `npx` would. */
export function runBin(bin: string, args: string[], opts: { env?: Record<string, string>; input?: string } = {}): Promise<CommandResult> {
  const app = { meshctl: 'ctl', 'meshca-global': 'global', 'meshca-zone': 'zone', 'meshca-dp': 'dp-agent' }[bin];
  if (!app) throw new Error(`unknown binary ${bin}`);
  const child = spawn(process.execPath, [join(REPO_ROOT, `apps/${app}/bin/${bin}.mjs`), ...args], { env: { ...process.env, ...opts.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(opts.input ?? '');
  return new Promise((ok) => child.on('exit', (code) => ok({ code, stdout, stderr })));
}

/** Where a meshctl should point: a control plane's address, admin token and CA. */
export interface MeshctlTarget {
  apiUrl: string;
  tokenFile: string;
  caFile: string;
}

/**
 * A fresh meshctl config with one control plane `name` added through `meshctl config
 * control-planes add`, as an operator would. Returns the env that selects it.
 */
export async function configureMeshctl(target: MeshctlTarget, name = 'g'): Promise<Record<string, string>> {
  const home = await mkdtemp(join(tmpdir(), 'meshctl-'));
  const env = { MESHCTL_CONFIG: join(home, 'meshctl.yaml') };
  const args = ['config', 'control-planes', 'add', '--name', name, '--address', target.apiUrl];
  const added = await runBin('meshctl', [...args, '--token-file', target.tokenFile, '--ca-cert-file', target.caFile], { env });
  if (added.code !== 0) throw new Error(`meshctl config control-planes add: ${added.stderr}`);
  return env;
}

/** The /metrics URL a started control plane logged (`{"metrics": "http://..."}`). */
export function metricsUrlOf(proc: { logs: Record<string, unknown>[] }): string {
  const entry = proc.logs.find((l) => typeof l.metrics === 'string');
  if (entry === undefined) throw new Error('the process did not log a metrics URL');
  return String(entry.metrics);
}

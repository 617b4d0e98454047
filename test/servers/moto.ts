import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../src/free-port.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const VENV = process.env.MOTO_VENV ?? resolve(ROOT, '.venv/moto');
const MOTO_SERVER = resolve(VENV, 'bin/moto_server');
const ENSURE = resolve(ROOT, 'scripts/ensure-moto.sh');

export interface MotoServer {
  endpoint: string;
  region: string;
  /** moto accepts any credentials; these are dummies so no real AWS key is ever used. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  stop(): Promise<void>;
}

/** Installs moto into .venv/moto when missing (scripts/ensure-moto.sh is idempotent). */
export async function ensureMoto(): Promise<string> {
  if (!existsSync(MOTO_SERVER)) {
    await promisify(execFile)('bash', [ENSURE], { env: { ...process.env, MOTO_VENV: VENV }, timeout: 300_000 });
  }
  return MOTO_SERVER;
}

async function waitUntilUp(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto_server exited with code ${child.exitCode}: ${output()}`);
    try {
      // moto's dashboard answers once the server is up; any HTTP answer will do.
      await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  throw new Error(`moto_server did not answer on ${endpoint} within 30s: ${output()}`);
}

export async function startMoto(): Promise<MotoServer> {
  const bin = await ensureMoto();
  const port = await freePort();
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, AWS_DEFAULT_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
  });
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilUp(endpoint, child, () => log);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  return {
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
    stop: () =>
      new Promise<void>((res) => {
        if (child.exitCode !== null) return res();
        child.once('exit', () => res());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

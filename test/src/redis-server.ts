import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface RedisServer {
  url: string;
  port: number;
  /** Kills the server and removes its data directory. */
  stop(): Promise<void>;
  /** Saves the dataset, stops the server and starts it again on the same port (a Redis with persistence restarting). */
  restart(): Promise<void>;
  /** The first half of restart: saved and stopped, the port closed until up(). */
  down(): Promise<void>;
  up(): Promise<void>;
}

/** Starts a real `redis-server` on a free port of 127.0.0.1, with no persistence of its own, in a temp dir. */
export async function startRedisServer(): Promise<RedisServer> {
  if (spawnSync('redis-server', ['--version']).error) {
    throw new Error('redis-server is not on PATH: run .ci/run (which installs it) or `apt-get install -y redis-server`');
  }
  const dir = await mkdtemp(join(tmpdir(), 'meshca-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  // A free port can be taken between probing and binding: try a few.
  for (let attempt = 0; child === undefined; attempt++) {
    port = await freePort();
    try {
      child = await launch(port, dir);
    } catch (err) {
      if (attempt >= 2) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  let current: ChildProcess = child;
  const killOnExit = () => current.kill('SIGKILL');
  process.on('exit', killOnExit);

  const server: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      process.off('exit', killOnExit);
      await terminate(current);
      await rm(dir, { recursive: true, force: true });
    },
    async restart() {
      await server.down();
      await server.up();
    },
    async down() {
      const exited = exitOf(current);
      // `--save ''` disables save points, so only an explicit SHUTDOWN SAVE keeps the data across the restart.
      await command(port, 'SHUTDOWN SAVE').catch(() => undefined);
      await exited;
    },
    async up() {
      current = await launch(port, dir);
    },
  };
  return server;
}

async function launch(port: number, dir: string): Promise<ChildProcess> {
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr?.on('data', (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  let exitCode: number | null | undefined;
  child.on('exit', (code) => (exitCode = code));
  for (let i = 0; i < 200; i++) {
    if (exitCode !== undefined) throw new Error(`redis-server exited with ${exitCode} on port ${port}: ${output.trim()}`);
    if ((await command(port, 'PING').catch(() => '')) === '+PONG') return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`redis-server did not answer PING on port ${port} within 10s: ${output.trim()}`);
}

/** Sends one inline command and resolves with the first reply line. */
function command(port: number, line: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(2000, () => socket.destroy(new Error(`no reply to ${line}`)));
    socket.on('connect', () => socket.write(`${line}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      const end = reply.indexOf('\r\n');
      if (end >= 0) {
        socket.destroy();
        resolve(reply.slice(0, end));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed before a reply to ${line}`)));
  });
}

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function terminate(child: ChildProcess): Promise<void> {
  const exited = exitOf(child);
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

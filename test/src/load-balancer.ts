// HAProxy as the plain TCP load balancer in front of global replicas (README, High availability):
// one frontend per port, round robin over the replicas, a dead replica taken out by its health
// check and a failed connection sent to another.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.js';

export interface LoadBalancer {
  /** The balanced port of each frontend, by name. */
  ports: Record<string, number>;
  stop(): Promise<void>;
}

/** `frontends`: name -> the replicas' ports on 127.0.0.1. */
export async function startLoadBalancer(frontends: Record<string, number[]>): Promise<LoadBalancer> {
  const dir = await mkdtemp(join(tmpdir(), 'meshca-lb-'));
  const ports: Record<string, number> = {};
  const lines = [
    'global',
    '  maxconn 4096',
    'defaults',
    '  mode tcp',
    '  timeout connect 1s',
    '  timeout client 1h',
    '  timeout server 1h',
    '  retries 3',
    '  option redispatch',
  ];
  for (const [name, backends] of Object.entries(frontends)) {
    ports[name] = await freePort();
    lines.push(
      `frontend ${name}`,
      `  bind 127.0.0.1:${ports[name]}`,
      `  default_backend ${name}`,
      `backend ${name}`,
      '  balance roundrobin',
    );
    backends.forEach((port, i) => lines.push(`  server r${i} 127.0.0.1:${port} check inter 300ms fall 2 rise 1`));
  }
  await writeFile(join(dir, 'haproxy.cfg'), `${lines.join('\n')}\n`);
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`haproxy exited with ${code} (scripts/deps/haproxy.sh installs it)`))),
  );
  exited.catch(() => {});
  for (const port of Object.values(ports)) await Promise.race([exited, listening(port)]);
  return {
    ports,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function listening(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

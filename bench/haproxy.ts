// HAProxy terminating TLS in front of a plain zone: the "TLS in front of the zone" option for the
// dataplane memory target, measured rather than assumed (bench/dataplanes.ts --haproxy). TCP mode:
// HAProxy decrypts and passes the bytes on, the zone serves plain WebSocket behind it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Haproxy {
  port: number;
  /** Resident memory of the HAProxy process, bytes. */
  rss(): Promise<number>;
  /** CPU time of the HAProxy process so far, ms. */
  cpuMs(): Promise<number>;
  stop(): Promise<void>;
}

export async function startHaproxy(opts: {
  backendPort: number;
  certPem: string;
  keyPem: string;
  port: number;
  maxconn: number;
}): Promise<Haproxy> {
  const dir = await mkdtemp(join(tmpdir(), 'meshca-haproxy-'));
  await writeFile(join(dir, 'server.pem'), `${opts.certPem}\n${opts.keyPem}\n`, { mode: 0o600 });
  await writeFile(
    join(dir, 'haproxy.cfg'),
    [
      'global',
      `  maxconn ${opts.maxconn}`,
      '  nbthread 1',
      'defaults',
      '  mode tcp',
      '  timeout connect 5s',
      '  timeout client 1h',
      '  timeout server 1h',
      'frontend dataplanes',
      `  bind 127.0.0.1:${opts.port} ssl crt ${join(dir, 'server.pem')}`,
      `  maxconn ${opts.maxconn}`,
      '  default_backend zone',
      'backend zone',
      `  server zone 127.0.0.1:${opts.backendPort} maxconn ${opts.maxconn}`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<never>((_, reject) =>
    child.once('exit', (code) => reject(new Error(`haproxy exited with ${code} (is it installed? apt-get install haproxy)`))),
  );
  exited.catch(() => {});
  await Promise.race([exited, waitForPort(opts.port)]);
  const pid = child.pid as number;
  const status = async (field: string): Promise<number> => {
    const text = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  };
  return {
    port: opts.port,
    rss: () => status('VmRSS'),
    async cpuMs() {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`haproxy did not listen on ${port}`);
}

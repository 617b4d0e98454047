// End to end: the real meshca-dp binary against a real zone process writes cert.pem, key.pem (0600)
// and bundle.pem, keeps them rotated, runs --reload-command after every rotation and reports its status.
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, fixture, REPO_ROOT, startMeshEnv, type MeshEnv } from '../src/index.js';

let env: MeshEnv;
let agent: ChildProcess | undefined;

beforeAll(async () => {
  env = await startMeshEnv({ zones: ['zone-1'] });
  const applied = await env.meshctlInput(fixture('mesh-builtin-6s.yaml'), 'apply', '-f', '-');
  expect(applied.code, applied.stderr).toBe(0);
}, 60_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  await env?.stop();
});

describe('meshca-dp', () => {
  it('writes the identity files, rotates them, runs the reload command after each rotation', async () => {
    const work = await mkdtemp(join(tmpdir(), 'meshca-dp-e2e-'));
    const dir = join(work, 'identity');
    const copies = join(work, 'reloads');
    const tokenFile = join(work, 'token');
    // meshctl writes the token the agent reads.
    const token = await env.meshctl('generate', 'dataplane-token', '--mesh', 'default', '--name', 'web-1', '--tag', 'kuma.io/service=web');
    expect(token.code, token.stderr).toBe(0);
    await writeFile(tokenFile, token.stdout.trim(), { mode: 0o600 });
    const zone = env.zones['zone-1']!;
    // The reload command keeps a copy of each certificate it was run for.
    const reload = `mkdir -p '${copies}' && cp "$MESHCA_CERT_FILE" "${copies}/$(date +%s%N).pem"`;
    agent = spawn(
      process.execPath,
      [
        join(REPO_ROOT, 'apps/dp-agent/bin/meshca-dp.mjs'),
        '--zone',
        zone.apiUrl,
        '--ca-file',
        zone.caFile,
        '--token-file',
        tokenFile,
        '--dir',
        dir,
        '--name',
        'web-1',
        '--address',
        '127.0.0.1',
        '--inbound',
        'port=8080,kuma.io/service=web,version=v1',
        '--csr',
        '--reload-command',
        reload,
        '--status-port',
        '0',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, MESHCA_LOG_LEVEL: 'info' } },
    );
    const logs: Record<string, unknown>[] = [];
    const statusPort = new Promise<number>((ok) => {
      createInterface({ input: agent!.stderr! }).on('line', (line) => {
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.port === 'number') ok(entry.port);
        } catch {
          logs.push({ raw: line });
        }
      });
    });

    // Initial certificate plus at least two rotations, each followed by a reload.
    const reloaded = await eventually(
      async () => {
        const names = (await readdir(copies)).sort();
        expect(names.length).toBeGreaterThanOrEqual(3);
        return names;
      },
      25_000,
      200,
    );
    const serials = await Promise.all(reloaded.map(async (n) => new X509Certificate(await readFile(join(copies, n))).serialNumber));
    expect(new Set(serials).size, 'each reload saw a new certificate').toBe(serials.length);

    const status = (await (await fetch(`http://127.0.0.1:${await statusPort}/status`)).json()) as Record<string, unknown>;
    expect(status).toMatchObject({ mesh: 'default', name: 'web-1', connected: true, backend: 'ca-1', bundleBackends: ['ca-1'] });
    expect(status.rotations).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(status)).not.toContain('PRIVATE KEY');

    expect(agent.kill('SIGTERM')).toBe(true);
    const code = await new Promise<number | null>((ok) => agent!.once('exit', (c) => ok(c)));
    expect(code, JSON.stringify(logs.slice(-5))).toBe(0);

    // What is left on disk is one consistent identity.
    expect((await stat(join(dir, 'key.pem'))).mode & 0o777).toBe(0o600);
    const cert = new X509Certificate(await readFile(join(dir, 'cert.pem')));
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'key.pem'))))).toBe(true);
    expect(cert.subjectAltName).toContain('URI:spiffe://default/web');
    expect(cert.subjectAltName).toContain('URI:kuma://version/v1');
    const root = new X509Certificate(await readFile(join(dir, 'bundle.pem')));
    expect(cert.verify(root.publicKey)).toBe(true);
    expect(root.ca).toBe(true);
    expect(await readdir(dir)).toEqual(['bundle.pem', 'cert.pem', 'key.pem']);
  }, 45_000);
});

import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, fixtureFile, freePort } from '@meshca/test';
import { applyMesh, builtin } from '../../../libs/identity/test/resources.js';
import { startZone, type TestZone } from '../../../libs/identity/test/test-zone.js';

const BIN = fileURLToPath(new URL('../bin/meshca-dp.mjs', import.meta.url));

let zone: TestZone | undefined;
let child: ChildProcess | undefined;
let dir: string | undefined;
afterEach(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  child = undefined;
  await zone?.close();
  zone = undefined;
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function status(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    return (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

async function start(args: string[]): Promise<void> {
  child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MESHCA_LOG_LEVEL: 'warn' },
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  child.once('exit', (code) => {
    if (code !== 0 && code !== null) process.stderr.write(`meshca-dp exited ${code}: ${stderr}\n`);
  });
}

describe('meshca-dp (real process)', () => {
  it('writes cert.pem, key.pem (0600) and bundle.pem atomically, runs the reload command after each rotation, serves its status', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '3s')] });
    dir = await mkdtemp(join(tmpdir(), 'meshca-dp-'));
    const token = await zone.tokens.issueDataplaneToken({
      mesh: 'default',
      name: 'web-1',
      tags: { 'kuma.io/service': 'web' },
      validFor: 600,
    });
    await writeFile(join(dir, 'token'), token, { mode: 0o600 });
    await writeFile(join(dir, 'zone-ca.pem'), zone.caPem);
    const port = await freePort();
    const out = join(dir, 'out');
    await start([
      '--zone',
      zone.url.replace('wss:', 'https:').replace('/dataplanes', ''),
      '--token-file',
      join(dir, 'token'),
      '--dir',
      out,
      '--dataplane-file',
      fixtureFile('dataplane-web-1.yaml'),
      '--ca-file',
      join(dir, 'zone-ca.pem'),
      '--status-port',
      String(port),
      // The command sees the new files: it records the serial of the certificate it was run for.
      '--reload-command',
      `openssl x509 -noout -serial -in "$MESHCA_CERT_FILE" >> "${join(dir, 'reloads')}"`,
    ]);
    await eventually(async () => expect(typeof (await status(port))?.serial, 'first certificate').toBe('string'), 20_000);
    const first = (await status(port))!;
    expect(first).toMatchObject({ mesh: 'default', name: 'web-1', connected: true, backend: 'ca-1', bundleBackends: ['ca-1'] });

    await eventually(async () => expect((await status(port))?.serial, 'rotation').not.toBe(first.serial), 10_000);
    await eventually(
      async () =>
        expect(
          (await readFile(join(dir!, 'reloads'), 'utf8').catch(() => '')).split('\n').filter(Boolean).length,
          'second reload',
        ).toBeGreaterThanOrEqual(2),
      5000,
    );
    const serialsReloaded = (await readFile(join(dir, 'reloads'), 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => l.replace('serial=', '').toLowerCase());
    expect(new Set(serialsReloaded).size).toBeGreaterThanOrEqual(2);

    const cert = new X509Certificate(await readFile(join(out, 'cert.pem')));
    expect(cert.subjectAltName).toContain('URI:spiffe://default/web');
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(join(out, 'key.pem'))))).toBe(true);
    expect(cert.verify(new X509Certificate(await readFile(join(out, 'bundle.pem'))).publicKey)).toBe(true);
    expect((await stat(join(out, 'key.pem'))).mode & 0o777).toBe(0o600);
    expect((await readdir(out)).sort()).toEqual(['bundle.pem', 'cert.pem', 'key.pem']); // no temp files left behind
  });

  it('--csr: the key is made by the agent and matches the certificate; flags instead of a file', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    dir = await mkdtemp(join(tmpdir(), 'meshca-dp-'));
    await writeFile(join(dir, 'token'), await zone.tokens.issueDataplaneToken({ mesh: 'default', name: 'api-1', validFor: 600 }));
    const port = await freePort();
    await start([
      '--zone',
      zone.url.replace('wss:', 'https:').replace('/dataplanes', ''),
      '--token-file',
      join(dir, 'token'),
      '--dir',
      dir,
      '--name',
      'api-1',
      '--address',
      '10.0.0.6',
      '--inbound',
      'port=9090,kuma.io/service=api',
      '--insecure-skip-verify',
      '--csr',
      '--status-port',
      String(port),
    ]);
    await eventually(async () => expect(typeof (await status(port))?.serial, 'certificate').toBe('string'), 20_000);
    await eventually(async () => expect(await readdir(dir!), 'files').toContain('cert.pem'));
    const cert = new X509Certificate(await readFile(join(dir, 'cert.pem')));
    expect(cert.subjectAltName).toBe('URI:spiffe://default/api, URI:kuma://kuma.io/service/api');
    expect(cert.checkPrivateKey(createPrivateKey(await readFile(join(dir, 'key.pem'))))).toBe(true);
    expect(zone.service.dataplanes()).toEqual([expect.objectContaining({ name: 'api-1', serial: (await status(port))!.serial })]);
  });

  it('--zone twice: a replica that does not answer is passed over for the next', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    dir = await mkdtemp(join(tmpdir(), 'meshca-dp-'));
    await writeFile(join(dir, 'token'), await zone.tokens.issueDataplaneToken({ mesh: 'default', name: 'api-1', validFor: 600 }));
    const port = await freePort();
    const nobody = await freePort(); // a zone replica that is down
    await start([
      ...['--zone', `https://127.0.0.1:${nobody}`, '--zone', zone.url.replace('wss:', 'https:').replace('/dataplanes', '')],
      ...['--token-file', join(dir, 'token'), '--dir', dir, '--name', 'api-1', '--address', '10.0.0.6'],
      ...['--inbound', 'port=9090,kuma.io/service=api', '--insecure-skip-verify', '--status-port', String(port)],
    ]);
    await eventually(async () => expect(typeof (await status(port))?.serial, 'certificate').toBe('string'), 20_000);
    expect(zone.service.dataplanes()).toEqual([expect.objectContaining({ name: 'api-1' })]);
  });
});

// The generated server certificates: every name the host is reached by, a new name re-issued from
// the same CA (clients keep their CA file), and a failed verification that says what to fix —
// checked with real TLS handshakes.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { hostname, networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { certificateNames, explainTlsError, loadOrCreateServerTls, serverNames } from '../src/index.js';

const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) s.close();
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'meshca-tls-'));
  dirs.push(d);
  return d;
}

/** Serves `tls` on loopback and shakes hands with `servername` trusting `caPem`: the error, or undefined. */
async function handshake(tls: { certPem: string; keyPem: string }, caPem: string, servername: string): Promise<Error | undefined> {
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca: caPem, servername });
    socket.once('secureConnect', () => {
      socket.end();
      resolve(undefined);
    });
    socket.once('error', (err) => resolve(err));
  });
}

describe('generated server certificates', () => {
  it('cover loopback, the host name and every interface address by default', async () => {
    const names = await serverNames({ extra: ['global.example'] });
    expect(names).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '::1', hostname().toLowerCase(), 'global.example']));
    const v4 = Object.values(networkInterfaces())
      .flatMap((l) => l ?? [])
      .filter((i) => i.family === 'IPv4')
      .map((i) => i.address);
    expect(names).toEqual(expect.arrayContaining(v4));
    const tls = await loadOrCreateServerTls({ dir: await tempDir(), name: 'api', hosts: names });
    expect(tls.event).toEqual({ kind: 'created' });
    expect(certificateNames(tls.certPem)).toEqual(expect.arrayContaining(names));
    expect(await handshake(tls, tls.caPem, 'global.example')).toBeUndefined();
  });

  it('re-issues the certificate from the same CA when a name is added, and keeps it when nothing changed', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateServerTls({ dir, name: 'sync', hosts: ['localhost', '127.0.0.1'] });
    const again = await loadOrCreateServerTls({ dir, name: 'sync', hosts: ['localhost', '127.0.0.1'] });
    expect(again.certPem).toBe(first.certPem);
    expect(again.event).toBeUndefined();

    const widened = await loadOrCreateServerTls({ dir, name: 'sync', hosts: ['localhost', '127.0.0.1', 'global.example', '192.0.2.10'] });
    expect(widened.event).toEqual({ kind: 'reissued', added: ['global.example', '192.0.2.10'] });
    expect(widened.caPem).toBe(first.caPem);
    expect(await readFile(join(dir, 'sync-ca.pem'), 'utf8')).toBe(first.caPem);
    expect(new X509Certificate(widened.certPem).checkIssued(new X509Certificate(first.caPem))).toBe(true);
    // A client holding the CA file from the first start verifies the new name.
    expect(await handshake(widened, first.caPem, 'global.example')).toBeUndefined();
    // Names once covered stay covered.
    const narrowed = await loadOrCreateServerTls({ dir, name: 'sync', hosts: ['localhost'] });
    expect(certificateNames(narrowed.certPem)).toEqual(expect.arrayContaining(['global.example', '192.0.2.10']));
  });

  it('keeps a certificate made before the CA key was kept, and says what it lacks', async () => {
    const dir = await tempDir();
    const first = await loadOrCreateServerTls({ dir, name: 'api', hosts: ['localhost'] });
    await rm(join(dir, 'api-ca.key'));
    const later = await loadOrCreateServerTls({ dir, name: 'api', hosts: ['localhost', 'global.example'] });
    expect(later.certPem).toBe(first.certPem);
    expect(later.event).toEqual({ kind: 'kept-without-ca-key', missing: ['global.example'] });
  });

  it('keeps the CA key and the server key readable by the owner only', async () => {
    const dir = await tempDir();
    await loadOrCreateServerTls({ dir, name: 'api', hosts: ['localhost'] });
    for (const f of ['api-ca.key', 'api.key']) expect((await stat(join(dir, f))).mode & 0o077).toBe(0);
  });
});

describe('a failed verification says what to fix', () => {
  it('names the address dialled, the names the certificate covers, and the flag', async () => {
    const tls = await loadOrCreateServerTls({ dir: await tempDir(), name: 'sync', hosts: ['localhost', '127.0.0.1'] });
    const err = await handshake(tls, tls.caPem, 'global.example');
    expect(err).toBeDefined();
    const text = explainTlsError(err!, { url: 'wss://global.example:5685/kds', server: 'meshca-global', caFlag: '--global-ca-file' });
    expect(text).toBe(
      'wss://global.example:5685/kds: the certificate of meshca-global does not cover "global.example" (it covers DNS:localhost, IP:127.0.0.1); start meshca-global with --tls-san global.example (its certificate is re-issued from the same CA, so --global-ca-file stays valid), or dial one of the names it covers',
    );
  });

  it('says which flag names the CA when the certificate is from another CA', async () => {
    const tls = await loadOrCreateServerTls({ dir: await tempDir(), name: 'api', hosts: ['localhost'] });
    const other = await loadOrCreateServerTls({ dir: await tempDir(), name: 'api', hosts: ['localhost'] });
    const err = await handshake(tls, other.caPem, 'localhost');
    const text = explainTlsError(err!, { url: 'https://zone.example:5682', server: 'meshca-zone', caFlag: '--ca-file' });
    expect(text).toMatch(
      /^https:\/\/zone\.example:5682: the certificate of meshca-zone is not signed by a CA this side trusts \(\w+\); pass the CA that signed it with --ca-file/,
    );
  });
});

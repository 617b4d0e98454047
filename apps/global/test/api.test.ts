import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@meshca/common';
import { ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import { generateCa } from '@meshca/pki';
import { startGlobal, type GlobalControlPlane } from '../src/global-cp.js';

let cp: GlobalControlPlane;
let admin: ApiClient;
let anonymous: ApiClient;
let wrongToken: ApiClient;

const builtinMesh = {
  type: 'Mesh',
  name: 'default',
  mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
};

async function failure(p: Promise<unknown>): Promise<ApiCallError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof ApiCallError)) throw new Error(`expected an API error, got ${String(err)}`);
  return err;
}

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-api-'));
  cp = await startGlobal({
    dataDir,
    apiAddress: '127.0.0.1',
    apiPort: 0,
    log: createLogger({ name: 'test', level: 'silent', pretty: false }),
  });
  admin = await createClient({ name: 't', address: cp.apiUrl, tokenFile: cp.adminTokenFile, caCertFile: cp.apiCaFile });
  anonymous = await createClient({ name: 't', address: cp.apiUrl, caCertFile: cp.apiCaFile });
  const wrongFile = join(dataDir, 'wrong-token');
  await import('node:fs/promises').then((fs) => fs.writeFile(wrongFile, 'not-the-token'));
  wrongToken = await createClient({ name: 't', address: cp.apiUrl, tokenFile: wrongFile, caCertFile: cp.apiCaFile });
});

afterAll(async () => {
  await cp.close();
});

describe('global HTTP API', () => {
  it('answers GET / with what it is, and health endpoints', async () => {
    const { body } = await anonymous.call<{ mode: string; version: string; store: string }>('GET', '/');
    expect(body).toMatchObject({ mode: 'global', store: 'memory' });
    expect(body.version).toMatch(/^\d+\.\d+\.\d+/);
    expect((await anonymous.call('GET', '/healthz')).status).toBe(200);
    expect((await anonymous.call<{ status: string }>('GET', '/readyz')).body.status).toBe('ready');
  });

  it('keeps the admin token in a 0600 file', async () => {
    const { stat } = await import('node:fs/promises');
    expect((await stat(cp.adminTokenFile)).mode & 0o777).toBe(0o600);
    expect((await readFile(cp.adminTokenFile, 'utf8')).trim().length).toBeGreaterThanOrEqual(40);
  });

  it('refuses writes without the admin token (401) and with a wrong one (403)', async () => {
    expect((await failure(anonymous.call('PUT', '/meshes/default', builtinMesh))).status).toBe(401);
    expect((await failure(wrongToken.call('PUT', '/meshes/default', builtinMesh))).status).toBe(403);
    expect((await failure(anonymous.call('GET', '/meshes/default'))).status).toBe(404);
  });

  it("creates (201), reads and updates (200) a Mesh, and generates its builtin CA once under Kuma's secret names", async () => {
    const created = await admin.call<{ name: string; mtls: unknown; creationTime: string }>('PUT', '/meshes/default', builtinMesh);
    expect(created.status).toBe(201);
    const { body } = await anonymous.call<Record<string, unknown>>('GET', '/meshes/default');
    expect(body).toMatchObject({ type: 'Mesh', name: 'default', mtls: builtinMesh.mtls });
    const cert1 = await admin.call<{ data: string }>('GET', '/meshes/default/secrets/default.ca-builtin-cert-ca-1');
    await admin.call('GET', '/meshes/default/secrets/default.ca-builtin-key-ca-1');

    const again = await admin.call('PUT', '/meshes/default', { ...builtinMesh, meshServices: { mode: 'Exclusive' } });
    expect(again.status).toBe(200);
    const cert2 = await admin.call<{ data: string }>('GET', '/meshes/default/secrets/default.ca-builtin-cert-ca-1');
    expect(cert2.body.data).toBe(cert1.body.data);
    const kept = await anonymous.call<Record<string, unknown>>('GET', '/meshes/default');
    expect(kept.body.meshServices).toEqual({ mode: 'Exclusive' });
  });

  it('keeps secrets from anonymous readers, even on localhost', async () => {
    expect((await failure(anonymous.call('GET', '/meshes/default/secrets'))).status).toBe(401);
    expect((await failure(anonymous.call('GET', '/global-secrets'))).status).toBe(401);
  });

  it('refuses an invalid Mesh with 400 and every failing field, and keeps the previous Mesh', async () => {
    const before = await anonymous.call<Record<string, unknown>>('GET', '/meshes/default');
    const err = await failure(
      admin.call('PUT', '/meshes/default', {
        type: 'Mesh',
        name: 'default',
        mtls: { enabledBackend: 'nope', backends: [{ name: 'ca-1', type: 'builtin', config: {} }] },
      }),
    );
    expect(err.status).toBe(400);
    const fields = (err.body.causes ?? []).map((c) => c.field);
    expect(fields).toContain('mtls.enabledBackend');
    expect(fields.some((f) => f.startsWith('mtls.backends[0].config'))).toBe(true);
    const after = await anonymous.call<Record<string, unknown>>('GET', '/meshes/default');
    expect(after.body).toEqual(before.body);
  });

  it('refuses a provided backend whose secrets are missing, naming the field, then accepts it once they exist', async () => {
    const mesh = {
      type: 'Mesh',
      name: 'default',
      mtls: {
        enabledBackend: 'ca-1',
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-2', type: 'provided', conf: { cert: { secret: 'ca-2-cert' }, key: { secret: 'ca-2-key' } } },
        ],
      },
    };
    const err = await failure(admin.call('PUT', '/meshes/default', mesh));
    expect(err.status).toBe(400);
    expect(err.body.causes).toContainEqual(
      expect.objectContaining({
        field: 'mtls.backends[1].conf.cert.secret',
        message: expect.stringContaining('"ca-2-cert" does not exist'),
      }),
    );

    const ca = generateCa({ commonName: 'ca-2', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    await admin.call('PUT', '/meshes/default/secrets/ca-2-cert', {
      type: 'Secret',
      name: 'ca-2-cert',
      mesh: 'default',
      data: b64(ca.certPem),
    });
    await admin.call('PUT', '/meshes/default/secrets/ca-2-key', {
      type: 'Secret',
      name: 'ca-2-key',
      mesh: 'default',
      data: b64(other.keyPem),
    });
    const mismatch = await failure(admin.call('PUT', '/meshes/default', mesh));
    expect(mismatch.status).toBe(400);
    expect(JSON.stringify(mismatch.body.causes)).toMatch(/ca-2/);
    expect(JSON.stringify(mismatch.body)).not.toContain('PRIVATE KEY');

    await admin.call('PUT', '/meshes/default/secrets/ca-2-key', {
      type: 'Secret',
      name: 'ca-2-key',
      mesh: 'default',
      data: b64(ca.keyPem),
    });
    expect((await admin.call('PUT', '/meshes/default', mesh)).status).toBe(200);

    const inUse = await failure(admin.call('DELETE', '/meshes/default/secrets/ca-2-key'));
    expect(inUse.status).toBe(409);
    expect(inUse.message).toContain('mesh "default"');
  });

  it('rejects a stale If-Match version with 409 and stores nothing', async () => {
    const { body } = await anonymous.call<{ modificationTime: string }>('GET', '/meshes/default');
    const err = await failure(
      admin.call('PUT', '/meshes/default', { ...builtinMesh, metrics: { enabledBackend: 'x' } }, { 'if-match': '1' }),
    );
    expect(err.status).toBe(409);
    expect((await anonymous.call<{ modificationTime: string; metrics?: unknown }>('GET', '/meshes/default')).body).toEqual(
      expect.objectContaining({ modificationTime: body.modificationTime }),
    );
  });

  it('refuses a body that does not match the path', async () => {
    const err = await failure(admin.call('PUT', '/meshes/other', builtinMesh));
    expect(err.status).toBe(400);
    expect(err.body.causes).toContainEqual(expect.objectContaining({ field: 'name' }));
  });

  it('refuses a secret for a mesh that does not exist', async () => {
    const err = await failure(admin.call('PUT', '/meshes/ghost/secrets/s', { type: 'Secret', name: 's', mesh: 'ghost', data: 'YQ==' }));
    expect(err.status).toBe(400);
    expect(err.body.causes?.[0]?.message).toContain('mesh "ghost" does not exist');
  });

  it('pages lists with size and offset, and rejects bad paging', async () => {
    for (let i = 0; i < 5; i++) {
      await admin.call('PUT', `/global-secrets/g${i}`, { type: 'GlobalSecret', name: `g${i}`, data: 'YQ==' });
    }
    const first = await admin.call<{ total: number; items: { name: string }[]; next: string | null }>('GET', '/global-secrets?size=2');
    expect(first.body.total).toBe(6); // the five, and the token verification keys global publishes at start
    expect(first.body.items.map((i) => i.name)).toEqual(['g0', 'g1']);
    const second = await admin.call<{ items: { name: string }[]; next: string | null }>('GET', first.body.next!);
    expect(second.body.items.map((i) => i.name)).toEqual(['g2', 'g3']);
    const third = await admin.call<{ items: { name: string }[]; next: string | null }>('GET', second.body.next!);
    expect(third.body.next).toBeNull();
    expect((await failure(admin.call('GET', '/global-secrets?size=0'))).status).toBe(400);
  });

  it('refuses writes of zone-owned resources through the API', async () => {
    const err = await failure(
      admin.call('PUT', '/meshes/default/dataplanes/dp-1', {
        type: 'Dataplane',
        name: 'dp-1',
        mesh: 'default',
        networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] },
      }),
    );
    expect(err.status).toBe(405);
  });

  it('deletes (200), then answers 404, and a Mesh delete takes its secrets', async () => {
    await admin.call('PUT', '/meshes/tmp', {
      type: 'Mesh',
      name: 'tmp',
      mtls: { enabledBackend: 'b', backends: [{ name: 'b', type: 'builtin' }] },
    });
    await admin.call('GET', '/meshes/tmp/secrets/tmp.ca-builtin-cert-b');
    expect((await admin.call('DELETE', '/meshes/tmp')).status).toBe(200);
    expect((await failure(admin.call('GET', '/meshes/tmp'))).status).toBe(404);
    expect((await failure(admin.call('GET', '/meshes/tmp/secrets/tmp.ca-builtin-cert-b'))).status).toBe(404);
    expect((await failure(admin.call('DELETE', '/meshes/tmp'))).status).toBe(404);
  });

  it('answers malformed JSON with 400', async () => {
    const https = await import('node:https');
    const ca = await readFile(cp.apiCaFile!, 'utf8');
    const token = (await readFile(cp.adminTokenFile, 'utf8')).trim();
    const status = await new Promise<number>((ok, fail) => {
      const req = https.request(
        `${cp.apiUrl}/meshes/x`,
        { method: 'PUT', ca, headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` } },
        (res) => {
          res.resume();
          ok(res.statusCode ?? 0);
        },
      );
      req.on('error', fail);
      req.end('{"type": ');
    });
    expect(status).toBe(400);
  });
});

describe('reserved resources', () => {
  it('refuses API writes to the token verification GlobalSecret', async () => {
    const put = await failure(
      admin.call('PUT', '/global-secrets/meshca-token-verification', {
        type: 'GlobalSecret',
        name: 'meshca-token-verification',
        data: 'YQ==',
      }),
    );
    expect(put.status).toBe(403);
    expect(put.message).toContain('managed by global');
    expect((await failure(admin.call('DELETE', '/global-secrets/meshca-token-verification'))).status).toBe(403);
  });
});

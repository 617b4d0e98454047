// A builtin CA is written whole with its Mesh or not at all, and a half-made one (left by a crash of
// an older version between its writes, or put there by hand) never wedges the Mesh.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { ResourceInput } from '@meshca/api';
import { builtinSecretNames, generateBuiltinCa } from '@meshca/ca';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { applyResource, type ApplyDeps } from '../src/apply.js';

const builtinMesh = (name: string): ResourceInput => ({
  meta: { type: 'Mesh', name },
  spec: { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } },
});

function deps(store: ResourceStore = createMemoryStore()): ApplyDeps & { warnings: Record<string, unknown>[] } {
  const warnings: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  return { store, log, warnings };
}

const text = async (store: ResourceStore, mesh: string, name: string): Promise<string | undefined> => {
  const r = await store.get({ type: 'Secret', mesh, name });
  return r === undefined ? undefined : Buffer.from(String((r.spec as { data?: string }).data), 'base64').toString();
};

/** Both Secrets exist and the certificate is the key's. */
async function expectWholeCa(store: ResourceStore, mesh: string): Promise<string> {
  const names = builtinSecretNames(mesh, 'ca-1');
  const certPem = await text(store, mesh, names.cert);
  const keyPem = await text(store, mesh, names.key);
  expect(certPem, 'CA certificate Secret').toBeDefined();
  expect(keyPem, 'CA key Secret').toBeDefined();
  expect(new X509Certificate(certPem as string).checkPrivateKey(createPrivateKey(keyPem as string))).toBe(true);
  return certPem as string;
}

const secret = (mesh: string, name: string, pem: string): ResourceInput => ({
  meta: { type: 'Secret', mesh, name },
  spec: { data: Buffer.from(pem).toString('base64') },
});

describe('builtin CA creation on apply', () => {
  it('writes the Mesh and both CA Secrets as one commit: consecutive revisions, key first, then the Mesh', async () => {
    const d = deps();
    const from = await d.store.revision();
    await applyResource(d, builtinMesh('default'));
    const changes = await d.store.changesSince(from);
    expect(changes === 'compacted' ? changes : changes.map((c) => c.key.name)).toEqual([
      'default.ca-builtin-key-ca-1',
      'default.ca-builtin-cert-ca-1',
      'default',
    ]);
    await expectWholeCa(d.store, 'default');
  });

  it.each([
    { left: 'the key Secret only (crash after the first write, or a Secret put by hand)', secrets: ['key'] },
    { left: 'the certificate Secret only', secrets: ['cert'] },
  ])('replaces a half-made CA at once: $left', async ({ secrets }) => {
    const d = deps();
    await applyResource(d, { meta: { type: 'Mesh', name: 'default' }, spec: {} });
    const stray = await generateBuiltinCa('default', { name: 'ca-1', type: 'builtin', conf: {} });
    const names = builtinSecretNames('default', 'ca-1');
    for (const which of secrets)
      await d.store.create(secret('default', names[which as 'key' | 'cert'], which === 'key' ? stray.keyPem : stray.certPem));

    const started = Date.now();
    await applyResource(d, builtinMesh('default'));
    expect(Date.now() - started).toBeLessThan(2000); // no waiting for another process that will never finish it
    const certPem = await expectWholeCa(d.store, 'default');
    expect(certPem).not.toBe(stray.certPem);
    expect(d.warnings).toEqual([expect.objectContaining({ mesh: 'default', backend: 'ca-1', msg: expect.stringContaining('half-made') })]);
    // And it stays: the next apply keeps this CA.
    await applyResource(d, builtinMesh('default'));
    expect(await expectWholeCa(d.store, 'default')).toBe(certPem);
  });

  it('uses a whole CA left without its Mesh (crash after the Secrets, before the Mesh)', async () => {
    const d = deps();
    const ca = await generateBuiltinCa('default', { name: 'ca-1', type: 'builtin', conf: {} });
    const names = builtinSecretNames('default', 'ca-1');
    await d.store.create(secret('default', names.key, ca.keyPem));
    await d.store.create(secret('default', names.cert, ca.certPem));
    await applyResource(d, builtinMesh('default'));
    expect(await expectWholeCa(d.store, 'default')).toBe(ca.certPem);
    expect(d.warnings).toEqual([]);
  });

  it('makes one CA when several applies of a new Mesh race', async () => {
    const d = deps();
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => applyResource(d, builtinMesh('default'))));
    // Each apply either stored the Mesh or lost the race for the Mesh itself (409), never for the CA.
    for (const r of results) if (r.status === 'rejected') expect(String(r.reason)).toContain('already exists');
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    await expectWholeCa(d.store, 'default');
    const changes = await d.store.changesSince(0);
    const caWrites = changes === 'compacted' ? [] : changes.filter((c) => c.key.type === 'Secret');
    expect(caWrites).toHaveLength(2);
  });
});

describe('builtin CA removal', () => {
  const mesh = (enabled: string, ...names: string[]): ResourceInput => ({
    meta: { type: 'Mesh', name: 'default' },
    spec: { mtls: { enabledBackend: enabled, backends: names.map((name) => ({ name, type: 'builtin' })) } },
  });

  it('deletes the CA Secrets of a builtin backend taken out of its Mesh, key and certificate, and keeps the others', async () => {
    const d = deps();
    await applyResource(d, mesh('ca-1', 'ca-1'));
    await applyResource(d, mesh('ca-1', 'ca-1', 'ca-2'));
    await applyResource(d, mesh('ca-2', 'ca-1', 'ca-2'));
    const old = builtinSecretNames('default', 'ca-1');
    expect(await text(d.store, 'default', old.key)).toBeDefined();
    const from = await d.store.revision();
    await applyResource(d, mesh('ca-2', 'ca-2'));
    expect(await text(d.store, 'default', old.key)).toBeUndefined();
    expect(await text(d.store, 'default', old.cert)).toBeUndefined();
    const kept = builtinSecretNames('default', 'ca-2');
    expect(await text(d.store, 'default', kept.key)).toBeDefined();
    // The Mesh first (zones stop using the backend), then the key, then the certificate.
    const changes = await d.store.changesSince(from);
    expect(changes === 'compacted' ? changes : changes.map((c) => `${c.op} ${c.key.name}`)).toEqual([
      'upsert default',
      `delete ${old.key}`,
      `delete ${old.cert}`,
    ]);
  });

  it('a backend of the same name added again gets a new CA', async () => {
    const d = deps();
    await applyResource(d, mesh('ca-1', 'ca-1', 'ca-2'));
    const names = builtinSecretNames('default', 'ca-2');
    const first = await text(d.store, 'default', names.cert);
    await applyResource(d, mesh('ca-1', 'ca-1'));
    await applyResource(d, mesh('ca-1', 'ca-1', 'ca-2'));
    const second = await text(d.store, 'default', names.cert);
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
  });
});

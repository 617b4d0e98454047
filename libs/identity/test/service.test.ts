import { X509Certificate, createPrivateKey } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinSecretNames } from '@meshca/ca';
import { certificateChainFromPem, createCsr, generateP256Key } from '@meshca/pki';
import { eventually } from '@meshca/test/eventually';
import { connectRaw } from './raw-client.js';
import { applyMesh, builtin, dataplane } from './resources.js';
import { startZone, type TestZone } from './test-zone.js';

let zone: TestZone | undefined;
afterEach(async () => {
  await zone?.close();
  zone = undefined;
});

const WEB = { 'kuma.io/service': 'web', version: 'v1' };

async function token(z: TestZone, name: string, tags?: Record<string, string>, mesh = 'default'): Promise<string> {
  return z.tokens.issueDataplaneToken({ mesh, name, validFor: 600, ...(tags ? { tags } : {}) });
}

function leafOf(chainPem: string): X509Certificate {
  return new X509Certificate(certificateChainFromPem(chainPem)[0] as string);
}

function issuedBy(leaf: X509Certificate, bundlePem: string): boolean {
  return certificateChainFromPem(bundlePem).some((pem) => {
    const root = new X509Certificate(pem);
    return leaf.checkIssued(root) && leaf.verify(root.publicKey);
  });
}

describe('dataplane identity service', () => {
  it('issues a builtin certificate with the SPIFFE and kuma URIs, stores the Dataplane and its insight', async () => {
    zone = await startZone({ workers: 1 }); // signs on a worker thread of an issuer pool
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const c = await connectRaw(zone, await token(zone, 'web-1', { 'kuma.io/service': 'web' }));
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    expect(await c.next('registered')).toMatchObject({ mesh: 'default', name: 'web-1' });
    const id = await c.next('identity');
    const leaf = leafOf(id.certChainPem);
    expect(leaf.subjectAltName).toBe('URI:spiffe://default/web, URI:kuma://kuma.io/service/web, URI:kuma://version/v1');
    expect(leaf.serialNumber.toLowerCase()).toBe(id.serial);
    expect(leaf.checkPrivateKey(createPrivateKey(id.keyPem as string))).toBe(true);
    expect(issuedBy(leaf, id.bundlePem)).toBe(true);
    expect(id).toMatchObject({ backend: 'ca-1', bundleBackends: ['ca-1'] });
    expect(new Date(id.notAfter).getTime() - Date.now()).toBeGreaterThan(23 * 3600_000);

    const dp = await zone.store.get({ type: 'Dataplane', mesh: 'default', name: 'web-1' });
    expect(dp?.spec).toEqual({ networking: dataplane('web-1', WEB).networking });
    await zone.service.flushInsights();
    const insight = await zone.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' });
    expect(insight?.spec).toMatchObject({
      zone: 'zone-1',
      connected: true,
      mTLS: { issuedBackend: 'ca-1', certificateSerial: id.serial, certificateExpirationTime: id.notAfter, supportedBackends: ['ca-1'] },
    });
    // What the GUI's detail page shows: the certificate's names and SANs, and the CA it chains to.
    const ca = new X509Certificate(id.bundlePem);
    expect((insight?.spec as { mTLS: { certificate: unknown } }).mTLS.certificate).toEqual({
      subject: '',
      issuer: 'CN=meshca default ca-1',
      notBefore: new Date(leaf.validFrom).toISOString(),
      uriSans: ['spiffe://default/web', 'kuma://kuma.io/service/web', 'kuma://version/v1'],
      sha256: leaf.fingerprint256.replace(/:/g, '').toLowerCase(),
      chain: [
        {
          subject: 'CN=meshca default ca-1',
          issuer: 'CN=meshca default ca-1',
          notAfter: new Date(ca.validTo).toISOString(),
          sha256: ca.fingerprint256.replace(/:/g, '').toLowerCase(),
        },
      ],
    });
    c.ws.close();
  });

  it('refuses a token for another identity, tags beyond the token, and a bad token (saying why)', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const tokenA = await token(zone, 'a', { 'kuma.io/service': 'a' });

    const asB = await connectRaw(zone, tokenA);
    asB.send({ type: 'register', dataplane: dataplane('b', { 'kuma.io/service': 'a' }) });
    expect((await asB.closed).code).toBe(4403);
    expect(asB.messages).toEqual([
      expect.objectContaining({
        type: 'refused',
        reason: 'forbidden',
        message: expect.stringContaining('token is for dataplane "a", not "b"'),
      }),
    ]);

    const wider = await connectRaw(zone, tokenA);
    wider.send({ type: 'register', dataplane: dataplane('a', { 'kuma.io/service': 'b' }) });
    expect((await wider.closed).code).toBe(4403);
    expect(wider.messages[0]).toMatchObject({
      type: 'refused',
      message: expect.stringContaining('networking.inbound[0].tags["kuma.io/service"]'),
    });

    const otherMesh = await connectRaw(zone, tokenA);
    otherMesh.send({ type: 'register', dataplane: dataplane('a', { 'kuma.io/service': 'a' }, 'other') });
    expect((await otherMesh.closed).code).toBe(4403);

    await expect(connectRaw(zone, 'not-a-token')).rejects.toMatchObject({ status: 401, body: expect.stringContaining('malformed') });
    await expect(connectRaw(zone, undefined)).rejects.toMatchObject({ status: 401, body: expect.stringContaining('missing') });
    expect(zone.service.stats().issued).toBe(0);
    expect(await zone.store.list('Dataplane')).toEqual([]);

    // A token without tags decides only mesh and name.
    const free = await connectRaw(zone, await token(zone, 'c'));
    free.send({ type: 'register', dataplane: dataplane('c', { 'kuma.io/service': 'anything' }) });
    expect((await free.next('identity')).backend).toBe('ca-1');
    free.ws.close();
  });

  it('CSR mode: the zone never sends a key; a fresh CSR is asked for at every rotation', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '3s')] });
    const c = await connectRaw(zone, await token(zone, 'web-1'));
    const key1 = generateP256Key();
    c.send({
      type: 'register',
      dataplane: dataplane('web-1', WEB),
      csrPem: createCsr({ keyPem: key1.keyPem, uriSans: ['spiffe://evil/admin'] }),
    });
    const first = await c.next('identity');
    expect(first.keyPem).toBeUndefined();
    const leaf1 = leafOf(first.certChainPem);
    expect(leaf1.publicKey.export({ type: 'spki', format: 'der' })).toEqual(key1.spkiDer);
    expect(leaf1.subjectAltName).not.toContain('evil');

    await c.next('csr-request', 5000);
    const key2 = generateP256Key();
    c.send({ type: 'csr', csrPem: createCsr({ keyPem: key2.keyPem, uriSans: [] }) });
    const second = await c.next('identity');
    expect(leafOf(second.certChainPem).publicKey.export({ type: 'spki', format: 'der' })).toEqual(key2.spkiDer);
    expect(second.serial).not.toBe(first.serial);
    expect(c.frames.some((f) => f.includes('PRIVATE KEY'))).toBe(false);
    c.ws.close();
  });

  it('renews at 50-80% of the lifetime, before expiry', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '4s')] });
    const c = await connectRaw(zone, await token(zone, 'web-1'));
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    const first = await c.next('identity');
    const firstAt = Date.now();
    const second = await c.next('identity', 6000);
    const secondAt = Date.now();
    expect(second.serial).not.toBe(first.serial);
    expect(secondAt).toBeLessThan(new Date(first.notAfter).getTime());
    // Lower bound only: renewal never comes before half the lifetime (the certificate's 4s, less the whole-second rounding).
    expect(secondAt - firstAt).toBeGreaterThanOrEqual(1400);
    c.ws.close();
  });

  it('re-issues from the new backend after an enabledBackend switch; the bundle had both; adding a backend re-sends the bundle', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const c = await connectRaw(zone, await token(zone, 'web-1'));
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    const first = await c.next('identity');
    expect(first.bundleBackends).toEqual(['ca-1']);

    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1'), builtin('ca-2')] });
    const bundle = await c.next('bundle');
    expect(bundle.bundleBackends).toEqual(['ca-1', 'ca-2']);
    expect(certificateChainFromPem(bundle.bundlePem)).toHaveLength(2);
    expect(issuedBy(leafOf(first.certChainPem), bundle.bundlePem)).toBe(true);

    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-2', backends: [builtin('ca-1'), builtin('ca-2')] });
    const second = await c.next('identity');
    expect(second.backend).toBe('ca-2');
    expect(second.bundleBackends).toEqual(['ca-1', 'ca-2']);
    const ca2 = (await zone.store.get({ type: 'Secret', mesh: 'default', name: builtinSecretNames('default', 'ca-2').cert }))!;
    const ca2Pem = Buffer.from(String((ca2.spec as { data: string }).data), 'base64').toString();
    expect(issuedBy(leafOf(second.certChainPem), ca2Pem)).toBe(true);
    expect(issuedBy(leafOf(first.certChainPem), ca2Pem)).toBe(false);

    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-2', backends: [builtin('ca-2')] });
    expect((await c.next('bundle')).bundleBackends).toEqual(['ca-2']);
    await zone.service.flushInsights();
    const insight = await zone.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' });
    expect(insight?.spec).toMatchObject({ mTLS: { issuedBackend: 'ca-2', supportedBackends: ['ca-2'], certificateSerial: second.serial } });
    c.ws.close();
  });

  it('waits for mTLS and for builtin CA secrets that arrive after the Mesh', async () => {
    zone = await startZone();
    await zone.store.create({ meta: { type: 'Mesh', name: 'default' }, spec: {} });
    const c = await connectRaw(zone, await token(zone, 'web-1'));
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    expect((await c.next('waiting')).reason).toContain('no mTLS enabled');

    // The Mesh arrives before its CA secrets (KDS may deliver them in either order).
    const mesh = (await zone.store.get({ type: 'Mesh', name: 'default' }))!;
    const mtls = { enabledBackend: 'ca-1', backends: [builtin('ca-1')] };
    await zone.store.update({ meta: { type: 'Mesh', name: 'default' }, spec: { mtls } }, mesh.meta.version);
    expect((await c.next('error')).message).toContain('have not been received from global yet');
    await applyMesh(zone.store, 'default', mtls);
    expect((await c.next('identity')).backend).toBe('ca-1');
    c.ws.close();
  });

  it('CA unavailable: keeps the valid certificate, records the error, recovers when the CA is back', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '4s')] });
    const c = await connectRaw(zone, await token(zone, 'web-1'));
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    const first = await c.next('identity');

    const names = builtinSecretNames('default', 'ca-1');
    const saved = await Promise.all([names.cert, names.key].map((name) => zone!.store.get({ type: 'Secret', mesh: 'default', name })));
    for (const s of saved) await zone.store.delete(s!.meta);
    const error = await c.next('error', 6000);
    expect(error.message).toContain('backend "ca-1"');
    expect(Date.now()).toBeLessThan(new Date(first.notAfter).getTime()); // renewal failed while the certificate is still valid
    await zone.service.flushInsights();
    const insight = await zone.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' });
    expect(insight?.spec).toMatchObject({
      mTLS: { certificateSerial: first.serial, lastError: { message: expect.stringContaining('ca-1') } },
    });

    for (const s of saved) await zone.store.create({ meta: s!.meta, spec: s!.spec });
    const recovered = await c.next('identity');
    expect(recovered.backend).toBe('ca-1');
    expect(issuedBy(leafOf(recovered.certChainPem), first.bundlePem)).toBe(true);
    await zone.service.flushInsights();
    const after = await zone.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' });
    expect((after?.spec as { mTLS: Record<string, unknown> }).mTLS.lastError).toBeUndefined();
    c.ws.close();
  });

  it('honours the issuance rate limit shared by all dataplanes', async () => {
    const rate = 10;
    const burst = 2;
    zone = await startZone({ issuance: { ratePerSecond: rate, burst } });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const clients = await Promise.all(Array.from({ length: 8 }, async (_, i) => connectRaw(zone!, await token(zone!, `dp-${i}`))));
    const start = Date.now();
    for (const [i, c] of clients.entries()) c.send({ type: 'register', dataplane: dataplane(`dp-${i}`, WEB) });
    const arrivals = (await Promise.all(clients.map(async (c) => (await c.next('identity'), Date.now() - start)))).sort((a, b) => a - b);
    // The k-th issuance (0-based) cannot start before (k + 1 - burst) / rate seconds.
    for (const [k, t] of arrivals.entries()) expect(t).toBeGreaterThanOrEqual(((k + 1 - burst) * 1000) / rate - 15);
    for (const c of clients) c.ws.close();
  });

  it('removes a dataplane that stays away past the grace period; a reconnect within it keeps it', async () => {
    zone = await startZone({ graceMs: 400 });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const t = await token(zone, 'web-1');
    const c1 = await connectRaw(zone, t);
    c1.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    await c1.next('identity');
    c1.ws.close();
    await c1.closed;
    const c2 = await connectRaw(zone, t);
    c2.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    await c2.next('identity');
    await new Promise((r) => setTimeout(r, 600));
    expect(await zone.store.get({ type: 'Dataplane', mesh: 'default', name: 'web-1' })).toBeDefined();

    // A second connection of the same dataplane replaces the first.
    const c3 = await connectRaw(zone, t);
    c3.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    expect((await c2.closed).code).toBe(4409);
    await c3.next('identity');
    c3.ws.close();
    await eventually(async () =>
      expect(await zone!.store.get({ type: 'Dataplane', mesh: 'default', name: 'web-1' }), 'Dataplane removal').toBeUndefined(),
    );
    await eventually(async () =>
      expect(await zone!.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' }), 'insight removal').toBeUndefined(),
    );
    expect(zone.service.stats().known).toBe(0);
  });
});

describe('token expiry on an open connection', () => {
  it('ends the connection when its dataplane token expires, saying so; the dataplane keeps its certificate', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const token = await zone.tokens.issueDataplaneToken({ mesh: 'default', name: 'web-1', validFor: 2 });
    const c = await connectRaw(zone, token);
    c.send({ type: 'register', dataplane: dataplane('web-1', WEB) });
    await c.next('identity');
    const closed = await c.closed;
    expect(closed.code).toBe(4403);
    expect(c.messages.at(-1)).toMatchObject({
      type: 'refused',
      reason: 'forbidden',
      message: expect.stringMatching(/^dataplane token expired at .*; give the dataplane a new token/),
    });
    // And the reconnect with the same token is refused at the upgrade.
    await expect(connectRaw(zone, token)).rejects.toMatchObject({ status: 401, body: expect.stringContaining('expired') });
  });
});

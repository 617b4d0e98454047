// A change to the enabled backend's settings (lifetime, Vault role, ACM PCA commonName, conf) reaches
// connected dataplanes promptly, not at their next renewal; other Mesh changes re-issue nothing.
import { afterEach, describe, expect, it } from 'vitest';
import type { MtlsBackend } from '@meshca/api';
import { openCaBackend, type CaBackend } from '@meshca/ca';
import { createCsr, generateP256Key } from '@meshca/pki';
import { eventually } from '@meshca/test/eventually';
import { backendSettingsFingerprint, canonicalJson, issuanceFingerprint } from '../src/fingerprint.js';
import type { OpenBackend } from '../src/index.js';
import { connectRaw, type RawClient } from './raw-client.js';
import { applyMesh, builtin, dataplane } from './resources.js';
import { startZone, type TestZone } from './test-zone.js';

let zone: TestZone | undefined;
afterEach(async () => {
  await zone?.close();
  zone = undefined;
});

const HOUR = 3600_000;
const WEB = { 'kuma.io/service': 'web' };

async function connect(z: TestZone, name: string, csr = false): Promise<RawClient> {
  const c = await connectRaw(z, await z.tokens.issueDataplaneToken({ mesh: 'default', name, validFor: 600 }));
  const csrPem = csr ? createCsr({ keyPem: generateP256Key().keyPem, uriSans: [] }) : undefined;
  c.send({ type: 'register', dataplane: dataplane(name, WEB), ...(csrPem ? { csrPem } : {}) });
  if (csr)
    c.ws.on('message', (data) => {
      if (String(data).includes('"csr-request"'))
        c.send({ type: 'csr', csrPem: createCsr({ keyPem: generateP256Key().keyPem, uriSans: [] }) });
    });
  return c;
}

/** How long from now the certificate of an identity message is valid. */
const remaining = (m: { notAfter: string }): number => new Date(m.notAfter).getTime() - Date.now();

/** openCaBackend, counting opens per backend name and, while `hold` is set, holding issuances until `release`. */
function instrumented(): { open: OpenBackend; opens: Map<string, number>; hold: boolean; release(): void; held: number } {
  let gate: { promise: Promise<void>; resolve: () => void } | undefined;
  const state = {
    opens: new Map<string, number>(),
    hold: false,
    held: 0,
    release() {
      state.hold = false;
      gate?.resolve();
      gate = undefined;
    },
    open: (async (mesh: string, backend: MtlsBackend, env) => {
      state.opens.set(backend.name, (state.opens.get(backend.name) ?? 0) + 1);
      const ca = await openCaBackend(mesh, backend, env);
      const wrapped: CaBackend = {
        mesh: ca.mesh,
        name: ca.name,
        type: ca.type,
        roots: () => ca.roots(),
        health: () => ca.health(),
        close: () => ca.close(),
        async issue(request) {
          if (state.hold) {
            if (!gate) {
              let resolve!: () => void;
              gate = { promise: new Promise<void>((r) => (resolve = r)), resolve };
            }
            state.held++;
            await gate.promise;
          }
          return ca.issue(request);
        },
      };
      return wrapped;
    }) as OpenBackend,
  };
  return state;
}

describe('backend settings fingerprint', () => {
  it('is the same for the same settings in any key order and for equal lifetimes; differs when a setting does', () => {
    const a: MtlsBackend = {
      name: 'v',
      type: 'vault',
      dpCert: { rotation: { expiration: '24h' } },
      conf: { fromCp: { address: 'https://v:8200', pki: 'pki', role: 'dp', auth: { token: { inlineString: 's3cret' } } } },
    };
    const reordered = JSON.parse(canonicalJson(a)) as MtlsBackend;
    expect(canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 0 }], c: undefined } })).toBe('{"a":{"d":[2,{"x":0,"y":1}]},"b":1}');
    expect(backendSettingsFingerprint(reordered)).toBe(backendSettingsFingerprint(a));
    expect(backendSettingsFingerprint({ ...a, dpCert: { rotation: { expiration: '1440m' } } })).toBe(backendSettingsFingerprint(a));
    expect(backendSettingsFingerprint({ ...a, dpCert: undefined } as unknown as MtlsBackend)).toBe(backendSettingsFingerprint(a)); // 24h is the default
    expect(backendSettingsFingerprint({ ...a, dpCert: { rotation: { expiration: '1h' } } })).not.toBe(backendSettingsFingerprint(a));
    const role = { ...a, conf: { fromCp: { ...(a.conf as { fromCp: object }).fromCp, role: 'other' } } } as MtlsBackend;
    expect(backendSettingsFingerprint(role)).not.toBe(backendSettingsFingerprint(a));
    expect(backendSettingsFingerprint({ ...a, name: 'w' })).not.toBe(backendSettingsFingerprint(a));
    expect(issuanceFingerprint(a, ['root-1'])).not.toBe(issuanceFingerprint(a, ['root-2']));
    expect(backendSettingsFingerprint(a)).not.toContain('s3cret');
  });
});

describe('enabled backend settings change', () => {
  it('changing dpCert.rotation.expiration 24h -> 1h re-issues connected dataplanes at once with ~1h certificates', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '24h')] });
    const clients = [await connect(zone, 'dp-0'), await connect(zone, 'dp-1'), await connect(zone, 'dp-2', true)];
    const first = await Promise.all(clients.map((c) => c.next('identity')));
    for (const id of first) expect(remaining(id)).toBeGreaterThan(23 * HOUR);

    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h')] });
    // A 24h certificate renews after 12h at the earliest: these come from the settings change.
    const second = await Promise.all(clients.map((c) => c.next('identity', 5000)));
    for (const [i, id] of second.entries()) {
      expect(id.serial).not.toBe(first[i]?.serial);
      expect(id.backend).toBe('ca-1');
      expect(id.bundlePem).toBe(first[i]?.bundlePem); // same CA, same roots
      expect(remaining(id)).toBeGreaterThan(0.9 * HOUR);
      expect(remaining(id)).toBeLessThanOrEqual(HOUR);
    }
    await zone.service.flushInsights();
    const insight = await zone.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'dp-0' });
    expect(insight?.spec).toMatchObject({ mTLS: { certificateSerial: second[0]?.serial, certificateExpirationTime: second[0]?.notAfter } });
    for (const c of clients) c.ws.close();
  });

  it('re-issues nothing for a change outside the enabled backend (another backend, a field outside mtls)', async () => {
    const ca = instrumented();
    zone = await startZone({ openBackend: ca.open });
    const ca2 = { ...builtin('ca-2'), conf: { caCert: { expiration: '10y' } } } as MtlsBackend;
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1'), ca2] });
    const clients = [await connect(zone, 'dp-0'), await connect(zone, 'dp-1', true)];
    await Promise.all(clients.map((c) => c.next('identity')));
    const issued = zone.service.stats().issued;
    const frames = clients.map((c) => c.messages.length);

    // A field outside mtls, then the non-enabled backend's dpCert and conf (which reopens it, so
    // its reopening tells when the zone has read both changes).
    const mesh = (await zone.store.get({ type: 'Mesh', name: 'default' }))!;
    await zone.store.update(
      { meta: mesh.meta, spec: { ...(mesh.spec as object), networking: { outbound: { passthrough: false } } } },
      mesh.meta.version,
    );
    const opensBefore = ca.opens.get('ca-2') ?? 0;
    const changed = { ...ca2, dpCert: { rotation: { expiration: '1h' } }, conf: { caCert: { expiration: '5y' } } } as MtlsBackend;
    const current = (await zone.store.get({ type: 'Mesh', name: 'default' }))!;
    await zone.store.update(
      { meta: current.meta, spec: { ...(current.spec as object), mtls: { enabledBackend: 'ca-1', backends: [builtin('ca-1'), changed] } } },
      current.meta.version,
    );
    await eventually(() => expect(ca.opens.get('ca-2') ?? 0, 'ca-2 reopened').toBeGreaterThan(opensBefore));
    // Past the whole re-issue spread window (200 ms in tests), and more.
    await new Promise((r) => setTimeout(r, 700));
    expect(zone.service.stats().issued).toBe(issued);
    for (const [i, c] of clients.entries()) expect(c.messages.slice(frames[i]).map((m) => m.type)).toEqual([]);

    // The same zone does follow a change of the enabled backend.
    const latest = (await zone.store.get({ type: 'Mesh', name: 'default' }))!;
    await zone.store.update(
      {
        meta: latest.meta,
        spec: { ...(latest.spec as object), mtls: { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h'), changed] } },
      },
      latest.meta.version,
    );
    for (const c of clients) expect(remaining(await c.next('identity', 5000))).toBeLessThanOrEqual(HOUR);
    for (const c of clients) c.ws.close();
  });

  it('a certificate issued while the Mesh changed under it is followed by one under the new settings', async () => {
    const ca = instrumented();
    zone = await startZone({ openBackend: ca.open });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const settled = await connect(zone, 'dp-0');
    await settled.next('identity');

    ca.hold = true; // the CA signs dp-1's certificate only once the new Mesh is loaded
    const racing = await connect(zone, 'dp-1');
    await eventually(() => expect(ca.held, 'dp-1 issuance in flight').toBeGreaterThan(0));
    const opens = ca.opens.get('ca-1') ?? 0;
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h')] });
    await eventually(() => expect(ca.opens.get('ca-1') ?? 0, 'ca-1 reopened with the new settings').toBeGreaterThan(opens));
    await new Promise((r) => setTimeout(r, 100));
    ca.release();

    expect(remaining(await racing.next('identity'))).toBeGreaterThan(23 * HOUR); // signed under the old settings
    expect(remaining(await racing.next('identity', 5000))).toBeLessThanOrEqual(HOUR);
    expect(remaining(await settled.next('identity', 5000))).toBeLessThanOrEqual(HOUR);
    settled.ws.close();
    racing.ws.close();
  });

  it('a dataplane waiting for the rate limiter when the settings change is issued under the new ones', async () => {
    zone = await startZone({ issuance: { ratePerSecond: 0.25, burst: 1 } });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const a = await connect(zone, 'dp-0');
    await a.next('identity'); // took the only token: the next issuance waits ~4 s
    const b = await connect(zone, 'dp-1');
    await eventually(() => expect(zone!.service.stats().queued, 'dp-1 waiting for the rate limiter').toBeGreaterThan(0));
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h')] });
    expect(remaining(await b.next('identity', 10_000))).toBeLessThanOrEqual(HOUR);
    a.ws.close();
    b.ws.close();
  });

  it('re-issues after a settings change within the shared rate limit', async () => {
    const rate = 10;
    const burst = 2;
    zone = await startZone({ issuance: { ratePerSecond: rate, burst } });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const clients = await Promise.all(Array.from({ length: 6 }, (_, i) => connect(zone!, `dp-${i}`)));
    await Promise.all(clients.map((c) => c.next('identity')));

    const start = Date.now();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '1h')] });
    const arrivals = (
      await Promise.all(
        clients.map(async (c) => {
          const id = await c.next('identity', 10_000);
          expect(remaining(id)).toBeLessThanOrEqual(HOUR);
          return Date.now() - start;
        }),
      )
    ).sort((x, y) => x - y);
    // At most `burst` tokens were saved up: the k-th re-issue (0-based) cannot start before (k + 1 - burst) / rate s.
    for (const [k, t] of arrivals.entries()) expect(t).toBeGreaterThanOrEqual(((k + 1 - burst) * 1000) / rate - 15);
    for (const c of clients) c.ws.close();
  });
});

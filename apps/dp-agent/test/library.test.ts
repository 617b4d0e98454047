import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { Agent, request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@meshca/test/eventually';
import { fixtureFile } from '@meshca/test/fixtures';
import { startTraffic } from '@meshca/test/traffic';
import { bundleFingerprints } from '@meshca/pki';
import { createTokenIssuer, generateSigningKey } from '@meshca/tokens';
import { seedVault, startVaultServer } from '../../../libs/ca/test/vault-setup.js';
import { applyMesh, builtin, dataplane } from '../../../libs/identity/test/resources.js';
import { startZone, type TestZone } from '../../../libs/identity/test/test-zone.js';
import {
  connectIdentity,
  createMtlsServer,
  isMtls,
  mtlsAgent,
  parseInbound,
  peerSpiffeIds,
  readDataplaneFile,
  type IdentityHandle,
} from '../src/index.js';

let zone: TestZone | undefined;
const handles: IdentityHandle[] = [];
afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
  await zone?.close();
  zone = undefined;
});

async function connect(z: TestZone, name: string, service: string, extra: { csr?: boolean } = {}): Promise<IdentityHandle> {
  const token = await z.tokens.issueDataplaneToken({ mesh: 'default', name, tags: { 'kuma.io/service': service }, validFor: 600 });
  const handle = connectIdentity({
    zone: z.url.replace('wss:', 'https:').replace('/dataplanes', ''),
    token,
    ca: z.caPem,
    dataplane: dataplane(name, { 'kuma.io/service': service }),
    reconnect: { baseMs: 100, maxMs: 1000 },
    ...extra,
  });
  handles.push(handle);
  return handle;
}

function get(port: number, agent: Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('connectIdentity and mTLS helpers', () => {
  it('short-lived certificates rotate under a request loop with no failed handshake; SPIFFE IDs are enforced', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1', '3s')] });
    const backend = await connect(zone, 'backend-1', 'backend');
    const frontend = await connect(zone, 'frontend-1', 'frontend', { csr: true });
    const server = await createMtlsServer(backend, ['spiffe://default/frontend'], (req, res) => {
      res.end(`hello ${peerSpiffeIds((req.socket as import('node:tls').TLSSocket).getPeerCertificate()).join(',')}`);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await frontend.ready();
    const agentFor = mtlsAgent(frontend, ['spiffe://default/backend']);

    // Requests for 7 s, noting both sides' certificates before each.
    const serials = { backend: new Set<string>(), frontend: new Set<string>() };
    const traffic = startTraffic(
      [
        {
          from: 'frontend-1',
          to: 'backend-1',
          async call() {
            serials.backend.add(backend.current()!.serial);
            serials.frontend.add(frontend.current()!.serial);
            const res = await get(port, agentFor());
            if (res.status !== 200 || res.body !== 'hello spiffe://default/frontend') throw new Error(`${res.status} ${res.body}`);
          },
        },
      ],
      { pauseMs: 20 },
    );
    await new Promise((r) => setTimeout(r, 7000));
    await traffic.stop();
    expect(traffic.failures).toEqual([]);
    expect(traffic.ok).toBeGreaterThan(10);
    // 3s certificates renewed at 50-80%: at least two renewals of each side in 7s.
    expect(serials.backend.size).toBeGreaterThanOrEqual(3);
    expect(serials.frontend.size).toBeGreaterThanOrEqual(3);

    // A client that expects another service refuses this server...
    await expect(get(port, mtlsAgent(frontend, ['spiffe://default/payments'])())).rejects.toThrow(
      /presented spiffe:\/\/default\/backend; expected spiffe:\/\/default\/payments/,
    );
    // ...and the server answers 403 to a mesh member it does not allow.
    const intruder = await connect(zone, 'intruder-1', 'intruder');
    await intruder.ready();
    const denied = await get(port, mtlsAgent(intruder, ['spiffe://default/backend'])());
    expect(denied).toEqual({ status: 403, body: 'peer presented spiffe://default/intruder; expected spiffe://default/frontend\n' });
    server.close();
  });

  it('reports a refusal by the zone and keeps retrying', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const token = await zone.tokens.issueDataplaneToken({ mesh: 'default', name: 'a', validFor: 600 });
    const handle = connectIdentity({
      zone: zone.url.replace('wss:', 'https:'),
      token,
      ca: zone.caPem,
      dataplane: dataplane('b', { 'kuma.io/service': 'b' }),
      reconnect: { baseMs: 100, maxMs: 500 },
    });
    handles.push(handle);
    const problem = await new Promise<string>((r) => handle.once('problem', r));
    expect(problem).toContain('token is for dataplane "a", not "b"');
    await expect(handle.ready(300)).rejects.toThrow(/no certificate from the zone within 300 ms: zone refused this dataplane/);
  });

  it("CSR mode gets a certificate from a Vault backend: the CSR carries the identity's URI SANs the zone names", async () => {
    const vault = await startVaultServer({ tls: true });
    try {
      const setup = await seedVault(vault, {
        roleArgs: { key_type: 'ec', key_bits: '256' },
        extraPaths: ['kmesh-pki-default/sign/dataplane-proxies'],
      });
      zone = await startZone();
      await applyMesh(zone.store, 'default', {
        enabledBackend: 'vault-1',
        backends: [
          {
            name: 'vault-1',
            type: 'vault',
            dpCert: { rotation: { expiration: '1h' } },
            conf: {
              fromCp: {
                address: vault.address,
                pki: setup.mount,
                role: setup.role,
                tls: { caCert: { inlineString: vault.caCertPem as string } },
                auth: { token: { inlineString: setup.token } },
              },
            },
          },
        ],
      });
      const handle = await connect(zone, 'web-1', 'web', { csr: true });
      const id = await handle.ready(10_000);
      expect(id.backend).toBe('vault-1');
      expect(new X509Certificate(id.certChainPem).subjectAltName).toBe('URI:spiffe://default/web, URI:kuma://kuma.io/service/web');
      expect(vault.stats().byPath['kmesh-pki-default/sign/dataplane-proxies']).toBe(1);
      expect(handle.status().lastError).toBeUndefined();
    } finally {
      await vault.stop();
    }
  });

  it('clears "waiting" when a bundle arrives; the zone says again if it still waits', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { backends: [builtin('ca-1')] });
    const handle = await connect(zone, 'web-1', 'web');
    await eventually(async () => expect(handle.status().waiting).toContain('has no mTLS enabled'));
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    await handle.ready(5000);
    expect(handle.status().waiting).toBeUndefined();
    await applyMesh(zone.store, 'default', { backends: [builtin('ca-1')] });
    await eventually(async () => expect(handle.status().waiting).toContain('has no mTLS enabled'));
    // Backends change while mTLS is off: the bundle ends "waiting", then the zone says it again.
    const atBundle: (string | undefined)[] = [];
    handle.on('update', (_id, change) => change === 'bundle' && atBundle.push(handle.status().waiting));
    await applyMesh(zone.store, 'default', { backends: [builtin('ca-1'), builtin('ca-2')] });
    await eventually(async () => expect(handle.current()?.bundleBackends).toEqual(['ca-1', 'ca-2']));
    expect(atBundle).toEqual([undefined]);
    await eventually(async () => expect(handle.status().waiting).toContain('has no mTLS enabled'));
  });

  it("shows the zone's reason for a refused connection, not the socket error that follows it", async () => {
    zone = await startZone();
    const token = await zone.tokens.issueDataplaneToken({ mesh: 'default', name: 'web-1', validFor: 1 });
    await new Promise((r) => setTimeout(r, 1100));
    const handle = connectIdentity({
      zone: zone.url.replace('wss:', 'https:').replace('/dataplanes', ''),
      token,
      ca: zone.caPem,
      dataplane: dataplane('web-1', { 'kuma.io/service': 'web' }),
      reconnect: { baseMs: 5000, maxMs: 5000 },
    });
    handles.push(handle);
    await eventually(async () =>
      expect(handle.status().lastError?.message).toMatch(
        /zone refused the connection \(HTTP 401\): dataplane token refused: token expired at/,
      ),
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(handle.status().lastError?.message).toContain('token expired');
  });

  it('a zone that has no token keys yet (just started) is not a refusal: the agent is back within seconds', async () => {
    let keysAfter = 2; // the first two upgrades find the zone without global's keys
    const tokens = createTokenIssuer({ keys: [await generateSigningKey()] });
    zone = await startZone({
      verifyToken: async (t) =>
        keysAfter-- > 0
          ? {
              ok: false,
              error: { reason: 'keys-unavailable', message: 'GlobalSecret "meshca-token-verification" has not been received from global' },
            }
          : tokens.verify(t, 'dataplane'),
    });
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const handle = connectIdentity({
      zone: zone.url.replace('wss:', 'https:').replace('/dataplanes', ''),
      token: await tokens.issueDataplaneToken({ mesh: 'default', name: 'web-1', validFor: 600 }),
      ca: zone.caPem,
      dataplane: dataplane('web-1', { 'kuma.io/service': 'web' }),
      // the defaults: a refusal would wait 30 s
    });
    handles.push(handle);
    await handle.ready(5000);
  });

  it('tells a restarted zone which CAs it trusts, before that zone sends it anything', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const handle = await connect(zone, 'web-1', 'web');
    await handle.ready();
    const held = bundleFingerprints(handle.current()!.bundlePem);
    const { tokens } = zone;
    const port = Number(new URL(zone.url).port);
    await zone.close();
    // The new process has no mesh yet: it sends nothing, so only the agent knows what it trusts.
    zone = await startZone({}, { port, tokens });
    const restarted = zone;
    await eventually(async () => {
      const insight = await restarted.store.get({ type: 'DataplaneInsight', mesh: 'default', name: 'web-1' });
      expect((insight?.spec as { mTLS?: { trustedCaFingerprints?: string[] } } | undefined)?.mTLS?.trustedCaFingerprints).toEqual(held);
    });
  });

  it('reads a gateway Dataplane file (no inbound) as written', async () => {
    const doc = await readDataplaneFile(fixtureFile('dataplane-gateway-delegated.yaml'));
    expect(doc).toMatchObject({
      mesh: 'default',
      name: 'kong-01',
      networking: { gateway: { type: 'DELEGATED', tags: { 'kuma.io/service': 'kong' } } },
    });
  });

  it('parses --inbound flags and says what is missing', () => {
    expect(parseInbound('port=8080,kuma.io/service=web,version=v1')).toEqual({
      port: 8080,
      tags: { 'kuma.io/service': 'web', version: 'v1' },
    });
    expect(() => parseInbound('kuma.io/service=web')).toThrow('port=<number> is required');
    expect(() => parseInbound('port=80')).toThrow('kuma.io/service=<service> is required');
    expect(() => parseInbound('port=99999,kuma.io/service=web')).toThrow('port number');
  });
});

describe('MeshTLS in the Node library', () => {
  function plainGet(port: number): Promise<{ status: number; body: string } | { error: string }> {
    return new Promise((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (err) => resolve({ error: err.message }));
      req.end();
    });
  }

  it('takes plaintext besides mTLS in Permissive mode, and only mTLS once the zone says Strict', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [{ ...builtin('ca-1'), mode: 'PERMISSIVE' }] });
    const backend = await connect(zone, 'backend-1', 'backend');
    const frontend = await connect(zone, 'frontend-1', 'frontend');
    const server = await createMtlsServer(backend, ['spiffe://default/frontend'], (req, res) => {
      res.end(isMtls(req) ? `mtls ${peerSpiffeIds((req.socket as TLSSocket).getPeerCertificate()).join(',')}` : 'plaintext');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    await eventually(() => expect(backend.status().tls).toEqual({ mode: 'Permissive', policies: [] }));
    await frontend.ready();
    const agent = mtlsAgent(frontend, ['spiffe://default/backend']);
    expect(await plainGet(port)).toEqual({ status: 200, body: 'plaintext' });
    expect(await get(port, agent())).toEqual({ status: 200, body: 'mtls spiffe://default/frontend' });

    await zone.store.create({
      meta: { type: 'MeshTLS', mesh: 'default', name: 'strict' },
      spec: { targetRef: { kind: 'Mesh' }, rules: [{ default: { mode: 'Strict', tlsVersion: { min: 'TLS13' } } }] },
    });
    await eventually(() => expect(backend.status().tls).toMatchObject({ mode: 'Strict', minVersion: 'TLS13', policies: ['strict'] }));
    expect(await plainGet(port)).toMatchObject({ error: expect.stringMatching(/socket hang up|ECONNRESET/) });
    expect(await get(port, agent())).toEqual({ status: 200, body: 'mtls spiffe://default/frontend' });
    // TLS 1.2 is refused now: the version range follows the policy.
    const old = new Agent({ ...agentOptions(frontend), maxVersion: 'TLSv1.2' });
    await expect(get(port, old)).rejects.toThrow(/protocol version|alert/i);
    server.close();
  });
});

function agentOptions(h: IdentityHandle) {
  const id = h.current()!;
  return { cert: id.certChainPem, key: id.keyPem, ca: id.bundlePem, checkServerIdentity: () => undefined };
}

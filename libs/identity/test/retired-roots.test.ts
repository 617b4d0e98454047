// A backend whose CA changes under the same name (or is removed) while dataplanes still hold
// certificates from the old CA: the old root stays in the bundle until the last of them is re-issued.
// Real handshakes between two dataplanes, each with a TLS server and client on its current identity.
import { X509Certificate } from 'node:crypto';
import { connect, createServer, type Server } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { MtlsBackend } from '@meshca/api';
import { builtinSecretNames } from '@meshca/ca';
import { certificateChainFromPem, createCsr, generateCa, generateP256Key } from '@meshca/pki';
import { eventually } from '@meshca/test/eventually';
import { startTraffic, type Route, type Traffic } from '@meshca/test/traffic';
import { decodeZoneMessage } from '../src/index.js';
import { connectRaw, type RawClient } from './raw-client.js';
import { applyMesh, builtin, dataplane } from './resources.js';
import { startZone, type TestZone } from './test-zone.js';

let zone: TestZone | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await zone?.close();
  zone = undefined;
});

/** One dataplane: its WebSocket, its current certificate/key/bundle, and an mTLS server on them. */
interface Peer {
  name: string;
  client: RawClient;
  cert: string;
  key: string;
  bundle: string;
  port: number;
  /** CSR mode only: answers to csr-request are held until this is called. */
  answerCsr(): void;
  csrRequested: boolean;
}

async function startPeer(z: TestZone, name: string, service: string, opts: { csr?: boolean; holdCsr?: boolean } = {}): Promise<Peer> {
  const token = await z.tokens.issueDataplaneToken({ mesh: 'default', name, validFor: 600 });
  const client = await connectRaw(z, token);
  let key = generateP256Key().keyPem;
  let pendingKey: string | undefined;
  let release: (() => void) | undefined;
  const gate = opts.holdCsr ? new Promise<void>((r) => (release = r)) : Promise.resolve();
  let server: Server | undefined;
  const peer: Peer = {
    name,
    client,
    cert: '',
    key,
    bundle: '',
    port: 0,
    csrRequested: false,
    answerCsr: () => release?.(),
  };
  const ready = new Promise<void>((resolve) => {
    client.ws.on('message', (data) => {
      const m = decodeZoneMessage(String(data));
      if (m.type === 'identity') {
        if (pendingKey !== undefined) key = pendingKey;
        Object.assign(peer, { cert: m.certChainPem, key: m.keyPem ?? key, bundle: m.bundlePem });
      } else if (m.type === 'bundle') {
        peer.bundle = m.bundlePem;
      } else if (m.type === 'csr-request') {
        peer.csrRequested = true;
        const next = generateP256Key().keyPem;
        void gate.then(() => {
          pendingKey = next;
          client.send({ type: 'csr', csrPem: createCsr({ keyPem: next, uriSans: [] }) });
        });
        return;
      } else return;
      // Like a dataplane's proxy: new connections use the newest certificate and bundle at once.
      server?.setSecureContext({ cert: peer.cert, key: peer.key, ca: peer.bundle });
      resolve();
    });
  });
  client.send({
    type: 'register',
    dataplane: dataplane(name, { 'kuma.io/service': service }),
    ...(opts.csr ? { csrPem: createCsr({ keyPem: key, uriSans: [] }) } : {}),
  });
  await ready;
  server = createServer({ cert: peer.cert, key: peer.key, ca: peer.bundle, requestCert: true, rejectUnauthorized: true }, (socket) =>
    socket.end('ok'),
  );
  server.on('tlsClientError', () => {}); // the client side records the failure
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  peer.port = (server.address() as AddressInfo).port;
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  cleanups.push(() => client.ws.close());
  return peer;
}

/** One mTLS call: a fresh handshake with both sides' current identities, then one byte of application data. */
function call(from: Peer, to: Peer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: '127.0.0.1',
      port: to.port,
      cert: from.cert,
      key: from.key,
      ca: from.bundle,
      checkServerIdentity: () => undefined, // the chain is what is under test, not the name
    });
    let got = '';
    socket.setTimeout(5000, () => socket.destroy(new Error('timeout')));
    socket.on('data', (d: Buffer) => (got += d.toString()));
    socket.on('end', () => (got === 'ok' ? resolve() : reject(new Error(`server closed without answering (${got})`))));
    socket.on('error', reject);
  });
}

/** Calls both ways between the two peers until stopped (at the latest after the test). */
function traffic(a: Peer, b: Peer): Traffic {
  const route = (from: Peer, to: Peer): Route => ({ from: from.name, to: to.name, call: () => call(from, to) });
  const loop = startTraffic([route(a, b), route(b, a)], { pauseMs: 5 });
  cleanups.push(loop.stop);
  return loop;
}

function leafIssuedBy(chainPem: string, caPem: string): boolean {
  const leaf = new X509Certificate(certificateChainFromPem(chainPem)[0] as string);
  const ca = new X509Certificate(caPem);
  return leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

const has = (bundlePem: string, rootPem: string): boolean =>
  certificateChainFromPem(bundlePem).includes(certificateChainFromPem(rootPem)[0] as string);

async function insightMtls(z: TestZone, name: string): Promise<Record<string, unknown>> {
  await z.service.flushInsights();
  const insight = await z.store.get({ type: 'DataplaneInsight', mesh: 'default', name });
  return (insight?.spec as { mTLS: Record<string, unknown> }).mTLS;
}

async function putSecret(z: TestZone, name: string, text: string): Promise<void> {
  const key = { type: 'Secret' as const, mesh: 'default', name };
  const spec = { data: Buffer.from(text).toString('base64') };
  const existing = await z.store.get(key);
  if (existing) await z.store.update({ meta: key, spec }, existing.meta.version);
  else await z.store.create({ meta: key, spec });
}

const provided: MtlsBackend = { name: 'ca-p', type: 'provided', conf: { cert: { secret: 'ca-p-cert' }, key: { secret: 'ca-p-key' } } };

describe('retired roots', () => {
  it('a provided backend switched in place to another CA: no failed handshake, new-CA certificates, then the old root leaves the bundle', async () => {
    const ca1 = generateCa({ commonName: 'old', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const ca2 = generateCa({ commonName: 'new', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    zone = await startZone({ rotationSpreadMs: 300, retiredRootLingerMs: 2000 });
    const z = zone;
    await putSecret(z, 'ca-p-cert', ca1.certPem);
    await putSecret(z, 'ca-p-key', ca1.keyPem);
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-p', backends: [provided] });

    const web = await startPeer(z, 'web-1', 'web');
    // CSR mode, holding its answer: it keeps its old-CA certificate as long as the test wants.
    const api = await startPeer(z, 'api-1', 'api', { csr: true, holdCsr: true });
    for (const p of [web, api]) expect(leafIssuedBy(p.cert, ca1.certPem)).toBe(true);
    const calls = traffic(web, api);
    await calls.more(5);

    // The same backend name, another CA: the Secrets' contents are replaced.
    await putSecret(z, 'ca-p-cert', ca2.certPem);
    await putSecret(z, 'ca-p-key', ca2.keyPem);

    // web-1 is re-issued from the new CA while api-1 still presents its old-CA certificate.
    await eventually(() => expect(leafIssuedBy(web.cert, ca2.certPem) && api.csrRequested, 'web-1 re-issued from the new CA').toBe(true));
    expect(leafIssuedBy(api.cert, ca1.certPem)).toBe(true);
    for (const p of [web, api]) {
      expect(has(p.bundle, ca1.certPem) && has(p.bundle, ca2.certPem)).toBe(true);
      expect(certificateChainFromPem(p.bundle)).toHaveLength(2);
    }
    expect(await insightMtls(z, 'web-1')).toMatchObject({ supportedBackends: ['ca-p'], retiredRoots: 1 });
    expect(z.service.dataplanes().find((d) => d.name === 'web-1')).toMatchObject({ bundleBackends: ['ca-p'], retiredRoots: 1 });
    // Calls in both directions between an old-CA and a new-CA certificate.
    await calls.more(10);

    api.answerCsr();
    await eventually(() => expect(leafIssuedBy(api.cert, ca2.certPem), 'api-1 re-issued from the new CA').toBe(true));
    // The last certificate under the old root is gone here; it lingers for other zones' dataplanes,
    // then every bundle is re-sent without it.
    expect(has(api.bundle, ca1.certPem) && has(web.bundle, ca1.certPem)).toBe(true);
    await eventually(() =>
      expect(!has(web.bundle, ca1.certPem) && !has(api.bundle, ca1.certPem), 'bundles without the old root').toBe(true),
    );
    for (const p of [web, api]) {
      expect(certificateChainFromPem(p.bundle)).toEqual(certificateChainFromPem(ca2.certPem));
      expect(leafIssuedBy(p.cert, ca2.certPem)).toBe(true);
    }
    expect(web.client.messages.filter((m) => m.type === 'bundle').at(-1)).toMatchObject({ bundleBackends: ['ca-p'] });
    const mtls = await insightMtls(z, 'web-1');
    expect(mtls).toMatchObject({ supportedBackends: ['ca-p'] });
    expect(mtls.retiredRoots).toBeUndefined();
    await calls.more(5);

    await calls.stop();
    expect(calls.failures).toEqual([]);
  }, 30_000);

  it('removal (step 3) after the re-issue drops the root at once; a removal while a certificate still chains to it keeps it (and it lingers after the re-issue)', async () => {
    zone = await startZone({ graceMs: 60_000, retiredRootLingerMs: 60_000 });
    const z = zone;
    const rootOf = async (backend: string) => {
      const s = await z.store.get({ type: 'Secret', mesh: 'default', name: builtinSecretNames('default', backend).cert });
      return Buffer.from(String((s?.spec as { data: string }).data), 'base64').toString();
    };
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const web = await startPeer(z, 'web-1', 'web');
    const api = await startPeer(z, 'api-1', 'api');
    const calls = traffic(web, api);
    const ca1 = await rootOf('ca-1');

    // The three steps.
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1'), builtin('ca-2')] });
    const ca2 = await rootOf('ca-2');
    await eventually(() => expect(has(web.bundle, ca2) && has(api.bundle, ca2), 'bundles with ca-2').toBe(true));
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-2', backends: [builtin('ca-1'), builtin('ca-2')] });
    await eventually(() => expect(leafIssuedBy(web.cert, ca2) && leafIssuedBy(api.cert, ca2), 'certificates from ca-2').toBe(true));
    await calls.more(5);
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-2', backends: [builtin('ca-2')] });
    await eventually(() => expect(!has(web.bundle, ca1) && !has(api.bundle, ca1), 'bundles without ca-1').toBe(true));
    for (const p of [web, api])
      expect(p.client.messages.filter((m) => m.type === 'bundle').at(-1)).toMatchObject({ bundleBackends: ['ca-2'] });
    expect(certificateChainFromPem(web.bundle)).toEqual(certificateChainFromPem(ca2));
    expect((await insightMtls(z, 'web-1')).retiredRoots).toBeUndefined();
    await calls.more(5);

    // Switch and removal in one apply (as with --force-rotation) while api-1 is away holding its ca-2
    // certificate: web-1 is re-issued from ca-3 and its bundle keeps ca-2 as a retired root.
    api.client.ws.close();
    await api.client.closed;
    await eventually(() => expect(z.service.stats().connected, 'api-1 disconnected').toBe(1));
    await calls.stop();
    expect(calls.failures).toEqual([]);
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-3', backends: [builtin('ca-3')] });
    const ca3 = await rootOf('ca-3');
    await eventually(() => expect(leafIssuedBy(web.cert, ca3), 'web-1 re-issued from ca-3').toBe(true));
    expect(has(web.bundle, ca2) && has(web.bundle, ca3)).toBe(true);
    expect(web.client.messages.filter((m) => m.type === 'identity').at(-1)).toMatchObject({ backend: 'ca-3', bundleBackends: ['ca-3'] });
    expect(await insightMtls(z, 'web-1')).toMatchObject({ supportedBackends: ['ca-3'], retiredRoots: 1 });

    // api-1 comes back (the new connection takes over what it holds) and is re-issued from ca-3; ca-2
    // then lingers (retiredRootLingerMs) for dataplanes of other zones.
    const back = await startPeer(z, 'api-1', 'api');
    expect(leafIssuedBy(back.cert, ca3)).toBe(true);
    expect(has(back.bundle, ca2) && has(web.bundle, ca2)).toBe(true);
    expect(await insightMtls(z, 'api-1')).toMatchObject({ issuedBackend: 'ca-3', supportedBackends: ['ca-3'], retiredRoots: 1 });
    await call(web, back);
    await call(back, web);
  }, 30_000);

  it('without lingering, the retired root leaves as soon as the last holder, away past its grace period, is removed', async () => {
    zone = await startZone({ graceMs: 1500, retiredRootLingerMs: 0 });
    const z = zone;
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const web = await startPeer(z, 'web-1', 'web');
    const api = await startPeer(z, 'api-1', 'api');
    const ca1 = certificateChainFromPem(web.bundle)[0] as string;
    api.client.ws.close();
    await api.client.closed;
    await applyMesh(z.store, 'default', { enabledBackend: 'ca-2', backends: [builtin('ca-2')] });
    await eventually(() => expect(!leafIssuedBy(web.cert, ca1), 'web-1 re-issued from ca-2').toBe(true));
    expect(has(web.bundle, ca1)).toBe(true); // api-1 may come back with its ca-1 certificate
    await eventually(async () =>
      expect(await z.store.get({ type: 'Dataplane', mesh: 'default', name: 'api-1' }), 'api-1 removed').toBeUndefined(),
    );
    await eventually(() => expect(!has(web.bundle, ca1), 'web-1 bundle without ca-1').toBe(true));
    expect(certificateChainFromPem(web.bundle)).toHaveLength(1);
  }, 30_000);
});

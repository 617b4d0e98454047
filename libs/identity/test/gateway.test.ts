// Gateway Dataplanes (Kong Mesh's delegated gateway, Kuma's builtin gateway) have no inbound; they
// get an identity for the service in networking.gateway.tags, as Kuma issues them one.
import { X509Certificate } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { parseDocuments } from '@meshca/api';
import { certificateChainFromPem } from '@meshca/pki';
import { fixture } from '@meshca/test/fixtures';
import type { DataplaneDocument } from '../src/index.js';
import { connectRaw } from './raw-client.js';
import { applyMesh, builtin } from './resources.js';
import { startZone, type TestZone } from './test-zone.js';

const DELEGATED_GATEWAY = fixture('dataplane-gateway-delegated.yaml');
const BUILTIN_GATEWAY = fixture('dataplane-gateway-builtin.yaml');

let zone: TestZone | undefined;
afterEach(async () => {
  await zone?.close();
  zone = undefined;
});

const doc = (yaml: string): DataplaneDocument => {
  const r = parseDocuments(yaml)[0]!;
  return { type: 'Dataplane', mesh: r.meta.mesh as string, name: r.meta.name, networking: (r.spec as DataplaneDocument).networking };
};

describe('gateway dataplanes', () => {
  it.each([
    { example: 'delegated gateway (a Kong Gateway in front of the mesh)', yaml: DELEGATED_GATEWAY, service: 'kong' },
    { example: 'builtin gateway', yaml: BUILTIN_GATEWAY, service: 'edge-gateway' },
  ])('the $example gets a certificate for its service', async ({ yaml, service }) => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const dp = doc(yaml);
    const c = await connectRaw(
      zone,
      await zone.tokens.issueDataplaneToken({ mesh: 'default', name: dp.name, tags: { 'kuma.io/service': service }, validFor: 600 }),
    );
    c.send({ type: 'register', dataplane: dp });
    const id = await c.next('identity');
    const leaf = new X509Certificate(certificateChainFromPem(id.certChainPem)[0] as string);
    expect(leaf.subjectAltName).toBe(`URI:spiffe://default/${service}, URI:kuma://kuma.io/service/${service}`);
    expect((await zone.store.get({ type: 'Dataplane', mesh: 'default', name: dp.name }))?.spec).toEqual({ networking: dp.networking });
    c.ws.close();
  });

  it('holds a gateway to the tags its token allows', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    const dp = doc(DELEGATED_GATEWAY);
    const c = await connectRaw(
      zone,
      await zone.tokens.issueDataplaneToken({ mesh: 'default', name: dp.name, tags: { 'kuma.io/service': 'web' }, validFor: 600 }),
    );
    c.send({ type: 'register', dataplane: dp });
    expect((await c.closed).code).toBe(4403);
    expect(c.messages[0]).toMatchObject({
      type: 'refused',
      message: expect.stringContaining('networking.gateway.tags["kuma.io/service"]: the token allows "web", not "kong"'),
    });
  });
});

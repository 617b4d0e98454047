import { describe, expect, it } from 'vitest';
import { fixture } from '@meshca/test/fixtures';
import { parseDocuments, parseObject, type ResourceInput, validateResource } from '../src/index.js';

const input = (meta: Record<string, unknown>, spec: unknown): ResourceInput => ({ meta, spec }) as unknown as ResourceInput;
const dp = (networking: unknown) => input({ type: 'Dataplane', name: 'dp-1', mesh: 'default' }, { networking });

describe('names', () => {
  it('accepts DNS-1123-like names up to 253 characters', () => {
    for (const name of ['default', 'ca-1', 'a.b-c', '0', 'x'.repeat(253)]) {
      expect(validateResource(input({ type: 'Zone', name }, {}))).toEqual([]);
    }
  });
  it('refuses others and says what is allowed', () => {
    expect(validateResource(input({ type: 'Zone', name: 'Zone_1' }, {}))).toEqual([
      {
        field: 'name',
        message: `"Zone_1" is not a valid name; use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`,
      },
    ]);
    expect(validateResource(input({ type: 'Zone', name: '-a' }, {}))[0]!.field).toBe('name');
    expect(validateResource(input({ type: 'Zone', name: 'x'.repeat(254) }, {}))).toEqual([
      { field: 'name', message: 'is 254 characters long; use at most 253' },
    ]);
    expect(validateResource(input({ type: 'Secret', name: 's', mesh: 'Prod' }, { data: 'YQ==' }))[0]!.field).toBe('mesh');
  });
  it('requires mesh on mesh-scoped types only', () => {
    expect(validateResource(input({ type: 'Secret', name: 's' }, { data: 'YQ==' }))).toEqual([
      { field: 'mesh', message: 'required for a Secret; set the name of its mesh' },
    ]);
    expect(validateResource(input({ type: 'Zone', name: 'z', mesh: 'default' }, {}))).toEqual([
      { field: 'mesh', message: 'a Zone does not belong to a mesh; remove mesh' },
    ]);
  });
});

describe('Secret and GlobalSecret', () => {
  it('requires base64 data and never echoes it', () => {
    expect(validateResource(input({ type: 'Secret', name: 's', mesh: 'm' }, { data: 'c2VjcmV0' }))).toEqual([]);
    expect(validateResource(input({ type: 'GlobalSecret', name: 'g' }, { data: 'c2Vj\ncmV0' }))).toEqual([]);
    const errors = validateResource(input({ type: 'GlobalSecret', name: 'g' }, { data: 'hunter2!' }));
    expect(errors).toEqual([{ field: 'data', message: 'is not valid base64; encode the secret with base64 (e.g. `base64 -w0 file`)' }]);
    expect(JSON.stringify(errors)).not.toContain('hunter2');
    expect(validateResource(input({ type: 'Secret', name: 's', mesh: 'm' }, {}))).toEqual([
      { field: 'data', message: 'required; put the secret, base64-encoded, in data' },
    ]);
  });
  it('refuses other fields', () => {
    expect(validateResource(input({ type: 'Secret', name: 's', mesh: 'm' }, { data: 'YQ==', date: 'x' }))).toEqual([
      { field: 'date', message: 'unknown field for a secret (it holds one field, data); did you mean "data"?' },
    ]);
  });
});

describe('Dataplane', () => {
  const inbound = { port: 8080, servicePort: 80, tags: { 'kuma.io/service': 'web', version: 'v1' } };
  it('accepts address and inbounds, keeping other fields', () => {
    const r = parseObject({
      type: 'Dataplane',
      name: 'dp-1',
      mesh: 'default',
      networking: { address: '10.0.0.1', inbound: [inbound], outbound: [] },
    });
    expect(validateResource(r)).toEqual([]);
    expect(r.spec).toEqual({ networking: { address: '10.0.0.1', inbound: [inbound], outbound: [] } });
  });
  it('checks address, ports and the kuma.io/service tag', () => {
    expect(
      validateResource(
        dp({
          inbound: [
            { port: 0, tags: { version: 1 } },
            { port: 70000, servicePort: 'x', tags: { 'kuma.io/service': 's' } },
          ],
        }),
      ),
    ).toEqual([
      { field: 'networking.address', message: 'required; give the address (IP or hostname) other dataplanes reach this one at' },
      { field: 'networking.inbound[0].port', message: 'must be a port number from 1 to 65535 (got number 0)' },
      { field: 'networking.inbound[0].tags.version', message: 'tag values are text; quote it ("1")' },
      { field: 'networking.inbound[0].tags["kuma.io/service"]', message: 'required; name the service this inbound serves' },
      { field: 'networking.inbound[1].port', message: 'must be a port number from 1 to 65535 (got number 70000)' },
      { field: 'networking.inbound[1].servicePort', message: 'must be a port number from 1 to 65535 (got the text "x")' },
    ]);
    expect(validateResource(dp({ address: '10.0.0.1', inbound: [] }))[0]!.field).toBe('networking.inbound');
    expect(validateResource(input({ type: 'Dataplane', name: 'd', mesh: 'm' }, {}))[0]!.field).toBe('networking');
  });
});

describe('gateway Dataplanes (no inbound, the service in networking.gateway.tags)', () => {
  const inbound = { port: 8080, tags: { 'kuma.io/service': 'web' } };
  it('accepts the delegated and builtin gateway examples as written, and a gateway without a type (DELEGATED)', () => {
    for (const yaml of [fixture('dataplane-gateway-delegated.yaml'), fixture('dataplane-gateway-builtin.yaml')])
      expect(validateResource(parseDocuments(yaml)[0]!)).toEqual([]);
    expect(validateResource(dp({ address: '10.0.0.1', gateway: { tags: { 'kuma.io/service': 'kong' } } }))).toEqual([]);
  });
  it('refuses what Kuma refuses, naming the field', () => {
    expect(validateResource(dp({ address: '10.0.0.1', gateway: { tags: { 'kuma.io/service': 'kong' } }, inbound: [inbound] }))).toEqual([
      {
        field: 'networking.inbound',
        message: "cannot be defined for delegated gateways; remove it (a gateway's service is in networking.gateway.tags)",
      },
    ]);
    expect(
      validateResource(
        dp({ address: '10.0.0.1', gateway: { type: 'BUILTIN', tags: { 'kuma.io/service': 'gw' } }, outbound: [{ port: 1 }] }),
      ),
    ).toEqual([
      {
        field: 'networking.outbound',
        message: 'cannot be defined for builtin gateways; remove it (routes come from MeshGateway and its routes)',
      },
    ]);
    expect(validateResource(dp({ address: '10.0.0.1', gateway: { type: 'EDGE', tags: { foo: 'bar' } } }))).toEqual([
      { field: 'networking.gateway.type', message: 'must be DELEGATED or BUILTIN (got the text "EDGE")' },
      { field: 'networking.gateway.tags["kuma.io/service"]', message: 'required; name the service of the gateway' },
    ]);
    expect(validateResource(dp({ address: '10.0.0.1' }))).toEqual([
      {
        field: 'networking.inbound',
        message:
          'required; list at least one inbound with port and tags (including kuma.io/service), or set networking.gateway for a gateway',
      },
    ]);
  });
});

describe('Zone, ZoneInsight, MeshIdentity', () => {
  it('Zone: enabled is a boolean', () => {
    expect(validateResource(input({ type: 'Zone', name: 'z' }, { enabled: true }))).toEqual([]);
    expect(validateResource(input({ type: 'Zone', name: 'z' }, { enabled: 'yes' }))).toEqual([
      { field: 'enabled', message: 'must be true or false (got the text "yes")' },
    ]);
  });
  it('ZoneInsight is free-form', () => {
    expect(validateResource(input({ type: 'ZoneInsight', name: 'z' }, { subscriptions: [{ id: 1 }], anything: true }))).toEqual([]);
  });
  it('MeshIdentity is checked field by field (workload-identity.test.ts has the cases)', () => {
    expect(validateResource(input({ type: 'MeshIdentity', name: 'i', mesh: 'm' }, { provider: { type: 'Bundled' } }))[0]!.field).toBe(
      'spec.provider.bundled',
    );
    // As in Kuma, an empty spec is an identity that selects nothing.
    expect(validateResource(input({ type: 'MeshIdentity', name: 'i', mesh: 'm' }, {}))).toEqual([]);
  });
  it('refuses an unknown type', () => {
    expect(validateResource(input({ type: 'Nope', name: 'n' }, {}))[0]!.field).toBe('type');
  });
});

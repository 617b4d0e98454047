// The token endpoints of global: admin only, Kuma's text/plain answers, field-named refusals,
// rotation that keeps old tokens valid, revocation by token or key.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@meshca/common';
import { type ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import { startGlobal, type GlobalControlPlane } from '../src/global-cp.js';

let cp: GlobalControlPlane;
let admin: ApiClient;
let anonymous: ApiClient;

const refusal = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e as ApiCallError,
  );
const text = (path: string, body: unknown) => admin.callText('POST', path, body);

beforeAll(async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-tokens-'));
  cp = await startGlobal({
    dataDir,
    apiAddress: '127.0.0.1',
    apiPort: 0,
    log: createLogger({ name: 'test', level: 'silent', pretty: false }),
  });
  admin = await createClient({ name: 't', address: cp.apiUrl, tokenFile: cp.adminTokenFile, caCertFile: cp.apiCaFile });
  anonymous = await createClient({ name: 't', address: cp.apiUrl, caCertFile: cp.apiCaFile });
});

afterAll(async () => {
  await cp.close();
});

describe('token endpoints', () => {
  it('need the admin token, even from localhost', async () => {
    expect((await refusal(anonymous.call('POST', '/tokens/zone', { zone: 'east' })))?.status).toBe(401);
    expect((await refusal(anonymous.call('GET', '/tokens/signing-keys')))?.status).toBe(401);
  });

  it('issue a zone token that verifies as that zone, and refuse bad requests naming the field', async () => {
    const token = await text('/tokens/zone', { zone: 'east', validFor: '1h' });
    const result = await cp.tokens.issuer().verify(token, 'zone');
    expect(result.ok && result.claims.zone).toBe('east');
    expect(result.ok && result.claims.expiresAt.getTime() - result.claims.issuedAt.getTime()).toBe(3600_000);
    const badName = await refusal(admin.call('POST', '/tokens/zone', { zone: 'East.1' }));
    expect(badName?.status).toBe(400);
    expect(badName?.body.causes?.[0]?.field).toBe('zone');
    const badValidity = await refusal(admin.call('POST', '/tokens/zone', { zone: 'east', validFor: '10' }));
    expect(badValidity?.body.causes?.[0]?.field).toBe('validFor');
    expect(badValidity?.message).toContain('no unit');
  });

  it('issue dataplane tokens with Kuma-shaped tags, and refuse several values for one tag', async () => {
    const token = await text('/tokens/dataplane', { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] } });
    const result = await cp.tokens.issuer().verify(token, 'dataplane');
    expect(result.ok && result.claims.tags).toEqual({ 'kuma.io/service': 'web' });
    const many = await refusal(
      admin.call('POST', '/tokens/dataplane', { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['a', 'b'] } }),
    );
    expect(many?.body.causes?.[0]?.field).toBe('tags["kuma.io/service"]');
  });

  it('rotate the signing key without invalidating older tokens; revoking the old key does', async () => {
    const old = await text('/tokens/zone', { zone: 'east' });
    const [first] = (await admin.call<{ items: { kid: string }[] }>('GET', '/tokens/signing-keys')).body.items;
    const rotated = await admin.call<{ kid: string; signing: boolean }>('POST', '/tokens/signing-keys/rotate');
    expect(rotated.body.kid).not.toBe(first?.kid);
    expect((await cp.tokens.issuer().verify(old, 'zone')).ok).toBe(true);
    await admin.call('POST', '/tokens/signing-keys/revoke', { kid: first?.kid });
    const after = await cp.tokens.issuer().verify(old, 'zone');
    expect(!after.ok && after.error.reason).toBe('revoked');
    const fresh = await text('/tokens/zone', { zone: 'east' });
    expect((await cp.tokens.issuer().verify(fresh, 'zone')).ok).toBe(true);
  });

  it('revoke one token by its value, leaving the others valid', async () => {
    const a = await text('/tokens/zone', { zone: 'east' });
    const b = await text('/tokens/zone', { zone: 'east' });
    await admin.call('POST', '/tokens/revoke', { token: a });
    const ra = await cp.tokens.issuer().verify(a, 'zone');
    expect(!ra.ok && ra.error.reason).toBe('revoked');
    expect((await cp.tokens.issuer().verify(b, 'zone')).ok).toBe(true);
    expect((await refusal(admin.call('POST', '/tokens/revoke', { token: 'not-a-jwt' })))?.status).toBe(400);
  });
});

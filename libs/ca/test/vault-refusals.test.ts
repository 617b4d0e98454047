// Each reason global refuses a vault backend, with the message an operator reads: applying the
// seed 001 Mesh runs checkMeshCas, which issues a test certificate through the backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocuments, type FieldError, type MeshSpec, type MtlsBackend, type VaultConf } from '@meshca/api';
import { generateCa } from '@meshca/pki';
import { seedText } from '@meshca/test/fixtures';
import { CaError, checkMeshCas, validationIdentity } from '../src/index.js';
import { openVaultBackend } from '../src/vault/index.js';
import {
  closedPort,
  contextOf,
  envOf,
  ok,
  seedVault,
  startVaultServer,
  storeWithSecrets,
  vaultCall,
  type SeedSetup,
  type VaultServer,
} from './vault-setup.js';

const SEED = parseDocuments(seedText('001-vault-universal.yaml'))[0]!.spec as MeshSpec;

let v: VaultServer;
let setup: SeedSetup;

beforeAll(async () => {
  v = await startVaultServer({ tls: true });
  setup = await seedVault(v);
  // A second role that forbids the mesh's URIs, and one capped at 1h.
  await ok(
    vaultCall(v, 'POST', `${setup.mount}/roles/other-mesh`, {
      allowed_uri_sans: 'spiffe://other/*',
      require_cn: 'false',
      key_type: 'ec',
      key_bits: '256',
    }),
  );
  await ok(
    vaultCall(v, 'POST', `${setup.mount}/roles/short`, {
      allowed_uri_sans: 'spiffe://default/*,kuma://*',
      require_cn: 'false',
      max_ttl: '1h',
      key_type: 'ec',
      key_bits: '256',
    }),
  );
  await ok(
    vaultCall(v, 'POST', `${setup.mount}/roles/needs-cn`, {
      allowed_uri_sans: 'spiffe://default/*,kuma://*',
      require_cn: 'true',
      key_type: 'ec',
      key_bits: '256',
    }),
  );
});
afterAll(async () => {
  await v?.stop();
});

interface Variation {
  fromCp?: Partial<VaultConf['fromCp']>;
  expiration?: string;
  secrets?: Record<string, string>;
}

function meshWith(o: Variation): MeshSpec {
  const spec = structuredClone(SEED);
  const backend = spec.mtls!.backends[0] as MtlsBackend<VaultConf>;
  delete (backend.conf.fromCp.auth as { tls?: unknown }).tls;
  backend.conf.fromCp.address = v.address;
  Object.assign(backend.conf.fromCp, o.fromCp);
  if (o.expiration) backend.dpCert = { rotation: { expiration: o.expiration } };
  return spec;
}

async function check(o: Variation): Promise<FieldError[]> {
  const store = await storeWithSecrets({ 'sec-1': v.caCertPem!, 'token-1': setup.token, ...o.secrets });
  return checkMeshCas({ store, mesh: 'default', spec: meshWith(o) });
}

/** The CaError the backend itself throws for the same configuration (for `retryable`). */
async function issueError(o: Variation): Promise<CaError> {
  const spec = meshWith(o);
  const store = await storeWithSecrets({ 'sec-1': v.caCertPem!, 'token-1': setup.token, ...o.secrets });
  const backend = spec.mtls!.backends[0]!;
  const ca = await openVaultBackend(contextOf('default', backend, store), envOf(store));
  try {
    await ca.issue({ identity: validationIdentity('default'), ttlSeconds: 3600 });
  } catch (err) {
    expect(err).toBeInstanceOf(CaError);
    return err as CaError;
  } finally {
    await ca.close();
  }
  throw new Error('issue succeeded');
}

const root = () => ({ 'token-1': v.rootToken });

describe("global refuses a vault backend that cannot issue, with the backend name and Vault's message", () => {
  it('passes with the seed as set up (control)', async () => {
    expect(await check({})).toEqual([]);
  });

  it('Vault unreachable: retryable, says so and names the address', async () => {
    const address = `http://127.0.0.1:${await closedPort()}`;
    const [e] = await check({ fromCp: { address } });
    expect(e?.field).toBe('mtls.backends[0]');
    expect(e?.message).toMatch(
      /^vault backend "vault-1" could not issue a test certificate: cannot reach Vault at http:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED.*check conf\.fromCp\.address/,
    );
    expect((await issueError({ fromCp: { address } })).retryable).toBe(true);
  });

  it('TLS does not verify (caCert of another CA): retryable, points at tls.caCert', async () => {
    const other = generateCa({ commonName: 'not vault', keyType: 'ecdsa-p256', validitySeconds: 3600 }).certPem;
    const [e] = await check({ secrets: { 'sec-1': other } });
    expect(e?.message).toMatch(
      /could not issue a test certificate: TLS to Vault at https:\/\/127\.0\.0\.1:\d+ does not verify: .*\((?:UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)\).*conf\.fromCp\.tls\.caCert/,
    );
    expect((await issueError({ secrets: { 'sec-1': other } })).retryable).toBe(true);
  });

  it('a wrong server name does not verify either', async () => {
    const [e] = await check({ fromCp: { tls: { caCert: { secret: 'sec-1' }, serverName: 'vault.example' } } });
    expect(e?.message).toMatch(/does not verify: .*ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  it('token unknown: Vault\'s "invalid token", not retryable', async () => {
    const [e] = await check({ secrets: { 'token-1': 'hvs.not-a-token' } });
    expect(e?.message).toContain('answered 403 to GET auth/token/lookup-self: permission denied, invalid token');
    expect(e?.message).toContain('the token is unknown, revoked or expired: put a valid token in conf.fromCp.auth.token');
    expect((await issueError({ secrets: { 'token-1': 'hvs.not-a-token' } })).retryable).toBe(false);
  });

  it('token denied by its policy: names the path and capability, and that a wrong token looks the same', async () => {
    const created = await ok(vaultCall(v, 'POST', 'auth/token/create', { policies: ['default'] }));
    const [e] = await check({ secrets: { 'token-1': String(created.json.auth?.client_token) } });
    expect(e?.message).toContain('answered 403 to POST kmesh-pki-default/issue/dataplane-proxies: permission denied');
    expect(e?.message).toContain('the token\'s policy does not grant "update" on path "kmesh-pki-default/issue/dataplane-proxies"');
    expect(e?.message).toContain('Vault answers a wrong or revoked token');
  });

  it('role missing (token allowed on it): Vault\'s "unknown role", what to create', async () => {
    const [e] = await check({ fromCp: { role: 'nope' }, secrets: root() });
    expect(e?.message).toContain('answered 400 to POST kmesh-pki-default/issue/nope: unknown role: nope');
    expect(e?.message).toContain(
      'role "nope" does not exist in mount "kmesh-pki-default": create it (vault write kmesh-pki-default/roles/nope ...)',
    );
    expect((await issueError({ fromCp: { role: 'nope' }, secrets: root() })).retryable).toBe(false);
  });

  it('role missing with the seed token: 403, since the policy covers one role only', async () => {
    const [e] = await check({ fromCp: { role: 'nope' } });
    expect(e?.message).toContain('does not grant "update" on path "kmesh-pki-default/issue/nope"');
  });

  it('mount missing (token allowed on it): 404 "no handler for route", how to enable it', async () => {
    const [e] = await check({ fromCp: { pki: 'nope-pki' }, secrets: root() });
    expect(e?.message).toContain(
      'answered 404 to POST nope-pki/issue/dataplane-proxies: no handler for route "nope-pki/issue/dataplane-proxies". route entry not found.',
    );
    expect(e?.message).toContain(
      'no secrets engine is mounted at "nope-pki": enable it (vault secrets enable -path=nope-pki pki) or fix conf.fromCp.pki',
    );
    expect((await issueError({ fromCp: { pki: 'nope-pki' }, secrets: root() })).retryable).toBe(false);
  });

  it('mount missing with the seed token: 403, and the message says a missing mount looks the same', async () => {
    const [e] = await check({ fromCp: { pki: 'nope-pki' } });
    expect(e?.message).toContain('answered 403 to POST nope-pki/issue/dataplane-proxies: permission denied');
    expect(e?.message).toMatch(/a mount the token may not see, with the same 403, so also check .*conf\.fromCp\.pki/);
  });

  it("role forbids the SPIFFE/kuma URIs: Vault's message and allowed_uri_sans", async () => {
    const [e] = await check({ fromCp: { role: 'other-mesh', commonName: '' }, secrets: root() });
    expect(e?.message).toContain('URI Subject Alternative Names were provided via the API which are not valid for this role');
    expect(e?.message).toContain('set its allowed_uri_sans, e.g. allowed_uri_sans="spiffe://<mesh>/*,kuma://*"');
    expect((await issueError({ fromCp: { role: 'other-mesh', commonName: '' }, secrets: root() })).retryable).toBe(false);
  });

  it('role requires a common name and none is set: says to set commonName', async () => {
    const [e] = await check({ fromCp: { role: 'needs-cn', commonName: '' }, secrets: root() });
    expect(e?.message).toContain('the common_name field is required');
    expect(e?.message).toContain('set conf.fromCp.commonName');
  });

  it('certificate shorter than dpCert.rotation.expiration (role max_ttl 1h, expiration 24h): says the expiration must not exceed max_ttl', async () => {
    const errors = await check({ fromCp: { role: 'short', commonName: '' }, secrets: root(), expiration: '24h' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe('mtls.backends[0].dpCert.rotation.expiration');
    expect(errors[0]?.message).toMatch(
      /valid for 1h, shorter than dpCert\.rotation\.expiration \(24h\).*must not exceed the cap \(the role's max_ttl; equal is fine\)/,
    );
    // Under the cap it passes, and at the cap too (the certificate is as long as asked).
    expect(await check({ fromCp: { role: 'short', commonName: '' }, secrets: root(), expiration: '50m' })).toEqual([]);
    expect(await check({ fromCp: { role: 'short', commonName: '' }, secrets: root(), expiration: '1h' })).toEqual([]);
  });

  it('Vault sealed: 503 "Vault is sealed", retryable', async () => {
    v.seal();
    try {
      const [e] = await check({});
      expect(e?.message).toContain('Vault is sealed');
      expect(e?.message).toContain('unseal it');
      expect((await issueError({})).retryable).toBe(true);
    } finally {
      v.unseal();
    }
  });

  it('messages never carry the token', async () => {
    const created = await ok(vaultCall(v, 'POST', 'auth/token/create', { policies: ['default'] }));
    const token = String(created.json.auth?.client_token);
    const all = [...(await check({ secrets: { 'token-1': token } })), ...(await check({ secrets: { 'token-1': `${token}x` } }))];
    expect(all.length).toBe(2);
    for (const e of all) expect(e.message).not.toContain(token);
  });
});

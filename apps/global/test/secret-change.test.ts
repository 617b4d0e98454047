// A Secret a backend reads is part of that backend: a new value gets the same check as a changed
// backend (a test certificate through Vault, the provided-CA checks), and a refused one stores nothing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ValidationError, type ResourceInput } from '@meshca/api';
import { generateCa } from '@meshca/pki';
import { createMemoryStore } from '@meshca/store';
import { ok, seedVault, startVaultServer, vaultCall, type SeedSetup, type VaultServer } from '../../../libs/ca/test/vault-setup.js';
import { applyResource, type ApplyDeps } from '../src/apply.js';

let vault: VaultServer;
let setup: SeedSetup;

beforeAll(async () => {
  vault = await startVaultServer({ tls: true });
  setup = await seedVault(vault, { roleArgs: { key_type: 'ec', key_bits: '256' } });
});
afterAll(async () => {
  await vault?.stop();
});

const deps = (): ApplyDeps => ({ store: createMemoryStore(), log: pino({ level: 'silent' }) });
const secret = (name: string, text: string, mesh = 'default'): ResourceInput => ({
  meta: { type: 'Secret', mesh, name },
  spec: { data: Buffer.from(text).toString('base64') },
});
const globalSecret = (name: string, text: string): ResourceInput => ({
  meta: { type: 'GlobalSecret', name },
  spec: { data: Buffer.from(text).toString('base64') },
});

const vaultMesh = (extra: Record<string, unknown> = {}): ResourceInput => ({
  meta: { type: 'Mesh', name: 'default' },
  spec: {
    mtls: {
      enabledBackend: 'vault-1',
      ...extra,
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
              tls: { caCert: { inlineString: vault.caCertPem } },
              auth: { token: { secret: 'vault-token' } },
            },
          },
        },
      ],
    },
  },
});

async function refusal(p: Promise<unknown>): Promise<ValidationError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ValidationError);
  return err as ValidationError;
}

describe('a changed Secret is checked like a changed backend', () => {
  it('refuses a Vault token Secret changed to a token Vault denies, naming the Mesh and field, and keeps the old one', async () => {
    const d = deps();
    await applyResource(d, { meta: { type: 'Mesh', name: 'default' }, spec: {} });
    await applyResource(d, secret('vault-token', setup.token));
    await applyResource(d, vaultMesh());
    const before = await d.store.get({ type: 'Secret', mesh: 'default', name: 'vault-token' });

    const err = await refusal(applyResource(d, secret('vault-token', 'hvs.not-a-token')));
    expect(err.message).toContain('cannot use the new value');
    expect(err.errors).toEqual([
      { field: 'data', message: expect.stringContaining('mesh "default" reads this Secret at mtls.backends[0].conf.fromCp.auth.token') },
    ]);
    expect(err.errors[0]?.message).toContain('vault-1');
    expect(err.errors[0]?.message).toContain('403');
    expect(err.errors[0]?.message).not.toContain('hvs.not-a-token');
    expect(await d.store.get({ type: 'Secret', mesh: 'default', name: 'vault-token' })).toEqual(before);

    // Another token with the same policy is fine.
    const other = await ok(vaultCall(vault, 'POST', 'auth/token/create', { policies: [setup.policy] }));
    await applyResource(d, secret('vault-token', String(other.json.auth?.client_token)));
    expect(await d.store.get({ type: 'Secret', mesh: 'default', name: 'vault-token' })).not.toEqual(before);
  });

  it('checks a GlobalSecret the same way, and skips the test certificate where the Mesh says skipValidation', async () => {
    const d = deps();
    await applyResource(d, globalSecret('vault-token', setup.token));
    await applyResource(d, vaultMesh());
    const err = await refusal(applyResource(d, globalSecret('vault-token', 'hvs.wrong')));
    expect(err.errors[0]?.message).toContain('reads this GlobalSecret');

    const skipping = deps();
    await applyResource(skipping, globalSecret('vault-token', setup.token));
    await applyResource(skipping, vaultMesh({ skipValidation: true }));
    await applyResource(skipping, globalSecret('vault-token', 'hvs.wrong'));
  });

  it('refuses a provided CA certificate Secret replaced alone (it no longer matches the key), saying how to replace a CA', async () => {
    const d = deps();
    const ca = generateCa({ commonName: 'corp root', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    const next = generateCa({ commonName: 'next root', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    await applyResource(d, { meta: { type: 'Mesh', name: 'default' }, spec: {} });
    await applyResource(d, secret('ca-cert', ca.certPem));
    await applyResource(d, secret('ca-key', ca.keyPem));
    await applyResource(d, {
      meta: { type: 'Mesh', name: 'default' },
      spec: {
        mtls: {
          enabledBackend: 'ca-2',
          backends: [{ name: 'ca-2', type: 'provided', conf: { cert: { secret: 'ca-cert' }, key: { secret: 'ca-key' } } }],
        },
      },
    });
    const err = await refusal(applyResource(d, secret('ca-cert', next.certPem)));
    expect(err.errors[0]?.message).toContain('does not match its certificate');
    expect(err.errors[0]?.message).toContain('new Secrets');
    // An unrelated Secret is not checked against anything.
    await applyResource(d, secret('unrelated', 'x'));
    await applyResource(d, secret('unrelated', 'y'));
  });
});

import { describe, expect, it } from 'vitest';
import type { MtlsBackend } from '@meshca/api';
import { resolveVaultSettings } from '../src/vault/index.js';
import { contextOf, storeWithSecrets } from './vault-setup.js';

async function settings(fromCp: Record<string, unknown>, extra: Partial<MtlsBackend> = {}) {
  const store = await storeWithSecrets({ tok: ' s.abc \n' }, 'web-mesh');
  return resolveVaultSettings(
    contextOf('web-mesh', { name: 'v', type: 'vault', conf: { fromCp } as MtlsBackend['conf'], ...extra }, store),
  );
}

describe('vault settings', () => {
  it('applies the defaults and treats empty strings as unset, as Kuma writes them', async () => {
    const s = await settings({
      address: 'https://vault:8200',
      agentAddress: '',
      namespace: '',
      tls: { serverName: '' },
      auth: { token: { secret: 'tok' } },
    });
    expect(s).toMatchObject({
      pki: 'kuma-pki-web-mesh',
      pkiDefaulted: true,
      role: 'dataplanes',
      roleDefaulted: true,
      namespace: undefined,
      auth: { kind: 'token', token: 's.abc' },
    });
    expect(s.url.href).toBe('https://vault:8200/');
    expect(s.tls).toEqual({ rejectUnauthorized: true });
    expect(s.issueTimeoutMs).toBe(10_000);
  });

  it('sends to the agent and uses no token when agentAddress is set', async () => {
    const s = await settings({ address: 'https://vault:8200', agentAddress: 'http://127.0.0.1:8100', auth: { token: { secret: 'tok' } } });
    expect(s.auth).toEqual({ kind: 'agent' });
    expect(s.url.href).toBe('http://127.0.0.1:8100/');
  });

  it('takes dpCert.requestTimeout and rootChain.requestTimeout', async () => {
    const s = await settings(
      { address: 'http://v:1', auth: { token: { inlineString: 't' } } },
      { dpCert: { requestTimeout: '2s' }, rootChain: { requestTimeout: '500ms' } },
    );
    expect([s.issueTimeoutMs, s.rootsTimeoutMs]).toEqual([2000, 500]);
  });

  it.each([
    [{ auth: { token: { inlineString: 't' } } }, 'conf.fromCp.address is not set'],
    [{ address: 'vault:8200', auth: { token: { inlineString: 't' } } }, 'must start with https:// or http://'],
    [{ address: 'https://v:1', auth: { token: { inlineString: '  ' } } }, 'conf.fromCp.auth.token is empty'],
    [
      { address: 'http://v:1', auth: { tls: { clientKey: { inlineString: 'k' }, clientCert: { inlineString: 'c' } } } },
      'needs an https:// address',
    ],
    [{ address: 'https://v:1', auth: {} }, 'conf.fromCp.auth needs token or tls'],
  ])('refuses %j: %s', async (fromCp, message) => {
    await expect(settings(fromCp)).rejects.toThrow(message);
  });
});

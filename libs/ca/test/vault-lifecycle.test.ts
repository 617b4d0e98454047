// The vault backend over time and under load: token renewal, cert-auth login (and login again),
// CSR mode on the sign path, bounded requests in flight, Vault Agent, namespaces, health, roots.
import { X509Certificate, generateKeyPairSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { DataSource, MtlsBackend, VaultConf } from '@meshca/api';
import { createCsr, createLocalIssuer, generateCa, parseCertificate } from '@meshca/pki';
import { CaError, type DataplaneIdentity } from '../src/index.js';
import { openVaultBackend, type VaultBackendOptions, type VaultCaBackend } from '../src/vault/index.js';
import {
  contextOf,
  envOf,
  ok,
  seedVault,
  startProxy,
  startVaultServer,
  storeWithSecrets,
  vaultCall,
  type Proxy,
  type VaultServer,
} from './vault-setup.js';

const web: DataplaneIdentity = { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] } };
const inline = (text: string): DataSource => ({ inlineString: text });
/** EC keys keep the in-process test server fast; the seed's RSA role is covered in vault-seeds. */
const EC = { key_type: 'ec', key_bits: '256' };

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function server(tls: boolean): Promise<VaultServer> {
  const v = await startVaultServer({ tls });
  cleanup.push(() => v.stop());
  return v;
}

async function proxy(...args: Parameters<typeof startProxy>): Promise<Proxy> {
  const p = await startProxy(...args);
  cleanup.push(() => p.stop());
  return p;
}

async function backend(fromCp: VaultConf['fromCp'], options: VaultBackendOptions = {}): Promise<VaultCaBackend> {
  const spec: MtlsBackend = { name: 'vault-1', type: 'vault', conf: { fromCp } };
  const store = await storeWithSecrets({});
  const ca = await openVaultBackend(contextOf('default', spec, store), envOf(store), options);
  cleanup.push(() => ca.close());
  return ca;
}

describe('token lifecycle', () => {
  it('looks the token up and renews a renewable token before its TTL runs out', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, tokenArgs: { ttl: '3s', renewable: true } });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    await ca.issue({ identity: web, ttlSeconds: 3600 });
    expect(ca.tokenState()).toMatchObject({ ttlSeconds: 3, renewable: true, renewals: 0 });
    // What meshca_vault_token_ttl_seconds reports: the TTL left, counting down from the lookup.
    const left = ca.clientState().tokenTtlSeconds ?? 0;
    expect(left).toBeGreaterThan(2);
    expect(left).toBeLessThanOrEqual(3);
    await sleep(1000);
    expect(ca.clientState().tokenTtlSeconds).toBeLessThan(left - 0.5);
    await sleep(3500); // past the token's first TTL
    await ca.issue({ identity: web, ttlSeconds: 3600 });
    expect(ca.tokenState().renewals).toBeGreaterThanOrEqual(1);
    expect(v.stats().byPath['auth/token/renew-self']).toBeGreaterThanOrEqual(1);
  });

  it('(control) an unrenewed token of the same TTL does expire, with the message for it', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, tokenArgs: { ttl: '2s', renewable: false } });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    await ca.issue({ identity: web, ttlSeconds: 3600 });
    await sleep(3000);
    await expect(ca.issue({ identity: web, ttlSeconds: 3600 })).rejects.toThrow(
      /permission denied, invalid token; the token is unknown, revoked or expired/,
    );
  });

  describe('TLS certificate login', () => {
    async function certAuthVault(certArgs: Record<string, string>) {
      const v = await server(true);
      const s = await seedVault(v, { roleArgs: EC });
      const clientCa = generateCa({ commonName: 'meshca control planes', keyType: 'ecdsa-p256', validitySeconds: 3600 });
      const issuer = createLocalIssuer({ caCertPem: clientCa.certPem, caKeyPem: clientCa.keyPem });
      const now = Date.now();
      const client = await issuer.issue({
        uriSans: [],
        commonName: 'zone-1',
        notBefore: new Date(now - 60_000),
        notAfter: new Date(now + 3600_000),
      });
      await issuer.close();
      await ok(vaultCall(v, 'POST', 'sys/auth/cert', { type: 'cert' }));
      await ok(vaultCall(v, 'POST', 'auth/cert/certs/meshca', { certificate: clientCa.certPem, token_policies: s.policy, ...certArgs }));
      const fromCp: VaultConf['fromCp'] = {
        address: v.address,
        pki: s.mount,
        role: s.role,
        tls: { caCert: inline(v.caCertPem!) },
        auth: { tls: { clientKey: inline(client.keyPem!), clientCert: inline(client.certPem) } },
      };
      return { v, fromCp };
    }

    it('logs in at auth/cert/login presenting the client certificate, then issues with that token', async () => {
      const { v, fromCp } = await certAuthVault({ token_ttl: '1h' });
      const ca = await backend(fromCp);
      const issued = await ca.issue({ identity: web, ttlSeconds: 3600 });
      expect(parseCertificate(issued.certChainPem).uriSans).toContain('spiffe://default/web');
      expect(ca.tokenState()).toMatchObject({ logins: 1, ttlSeconds: 3600, renewable: true });
      expect(v.stats().byPath['auth/cert/login']).toBe(1);
    });

    it('renews the login token presenting the client certificate (Vault refuses a renewal without it)', async () => {
      const { v, fromCp } = await certAuthVault({ token_ttl: '2s', token_max_ttl: '1h' });
      const ca = await backend(fromCp);
      await ca.issue({ identity: web, ttlSeconds: 3600 });
      await sleep(2500); // past 2/3 of the 2s TTL: one renewal at least
      expect(ca.tokenState()).toMatchObject({ logins: 1 });
      expect(ca.tokenState().renewals).toBeGreaterThanOrEqual(1);
      expect(v.stats().byPath['auth/token/renew-self']).toBe(ca.tokenState().renewals);
      await ca.issue({ identity: web, ttlSeconds: 3600 });
    });

    it('logs in again when Vault refuses the token as expired, and the request succeeds', async () => {
      const { fromCp } = await certAuthVault({ token_ttl: '1s', token_max_ttl: '1s' });
      // Upkeep far beyond the TTL, so only the refusal can trigger the second login.
      const ca = await backend(fromCp, { renewFraction: 100 });
      await ca.issue({ identity: web, ttlSeconds: 3600 });
      await sleep(1600);
      expect(ca.clientState().retries).toBe(0);
      await ca.issue({ identity: web, ttlSeconds: 3600 });
      expect(ca.tokenState().logins).toBe(2);
      // The refused request was sent again with the new token.
      expect(ca.clientState()).toMatchObject({ retries: 1, inFlight: 0, queued: 0, backingOff: 0 });
    });

    it('logs in again ahead of time when renewal can no longer extend the token (max TTL)', async () => {
      const { v, fromCp } = await certAuthVault({ token_ttl: '2s', token_max_ttl: '3s' });
      const ca = await backend(fromCp);
      await ca.issue({ identity: web, ttlSeconds: 3600 });
      await sleep(4000);
      expect(ca.tokenState().logins).toBeGreaterThanOrEqual(2);
      await ca.issue({ identity: web, ttlSeconds: 3600 });
      // No request was refused and repeated: the upkeep stayed ahead of expiry.
      expect(v.stats().byPath['kmesh-pki-default/issue/dataplane-proxies']).toBe(2);
      expect(v.stats().byPath['auth/cert/login']).toBe(ca.tokenState().logins);
    });

    it("a client certificate Vault does not trust: Vault's message and what to set up", async () => {
      const { fromCp } = await certAuthVault({ token_ttl: '1h' });
      const stranger = generateCa({ commonName: 'stranger', keyType: 'ecdsa-p256', validitySeconds: 3600 });
      const ca = await backend({ ...fromCp, auth: { tls: { clientKey: inline(stranger.keyPem), clientCert: inline(stranger.certPem) } } });
      const err = await ca.issue({ identity: web, ttlSeconds: 3600 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CaError);
      expect((err as CaError).message).toContain(
        'answered 400 to POST auth/cert/login: invalid certificate or no client certificate supplied',
      );
      expect((err as CaError).message).toContain('vault auth enable cert');
    });
  });
});

describe('CSR mode', () => {
  const csrFor = () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    return { keyPem, csrPem: createCsr({ keyPem, uriSans: ['spiffe://default/web', 'kuma://kuma.io/service/web'] }) };
  };

  it('with the seed policy (issue only) the sign path is refused, clearly, and nothing is issued instead', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    const err = await ca.issue({ identity: web, ttlSeconds: 3600, csrPem: csrFor().csrPem }).catch((e: unknown) => e);
    expect((err as CaError).message).toContain('does not grant "update" on path "kmesh-pki-default/sign/dataplane-proxies"');
    expect((err as CaError).message).toContain(
      'CSR mode signs at "kmesh-pki-default/sign/dataplane-proxies", which the reference policy does not grant',
    );
    expect(v.stats().byPath['kmesh-pki-default/issue/dataplane-proxies']).toBeUndefined();
  });

  it('with the sign path granted, Vault signs the dataplane key and no key comes back', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, extraPaths: ['kmesh-pki-default/sign/dataplane-proxies'] });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    const { keyPem, csrPem } = csrFor();
    const issued = await ca.issue({ identity: web, ttlSeconds: 3600, csrPem });
    expect(issued.keyPem).toBeUndefined();
    expect(new X509Certificate(issued.certChainPem).checkPrivateKey((await import('node:crypto')).createPrivateKey(keyPem))).toBe(true);
    expect(parseCertificate(issued.certChainPem).uriSans).toEqual(['spiffe://default/web', 'kuma://kuma.io/service/web']);
  });

  it("refuses a CSR that asks for another identity (Vault would sign the CSR's own SANs)", async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, extraPaths: ['kmesh-pki-default/sign/dataplane-proxies'] });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const csrPem = createCsr({ keyPem, uriSans: ['spiffe://default/payments', 'kuma://kuma.io/service/payments'] });
    await expect(ca.issue({ identity: web, ttlSeconds: 3600, csrPem })).rejects.toThrow(
      /CSR asks for URI SANs \[spiffe:\/\/default\/payments, .*\] but its identity is \[spiffe:\/\/default\/web, kuma:\/\/kuma.io\/service\/web\]/,
    );
    expect(v.stats().byPath['kmesh-pki-default/sign/dataplane-proxies']).toBeUndefined();
  });
});

describe('connections', () => {
  it('keeps at most maxInFlight requests open at Vault and queues the rest', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC });
    v.setLatency(40);
    const p = await proxy(v.address);
    const ca = await backend({ address: p.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } }, { maxInFlight: 3 });
    const results = await Promise.all(Array.from({ length: 15 }, () => ca.issue({ identity: web, ttlSeconds: 3600 })));
    expect(new Set(results.map((r) => r.serial)).size).toBe(15);
    expect(v.stats().byPath['kmesh-pki-default/issue/dataplane-proxies']).toBe(15);
    expect(p.maxInFlight()).toBe(3);
    expect(ca.load()).toEqual({ running: 0, queued: 0 });
  });

  it('through a Vault Agent: requests go to agentAddress and carry no token', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC });
    const agent = await proxy(v.address, { addHeaders: { 'x-vault-token': s.token } });
    const ca = await backend({
      address: 'https://vault.example:8200',
      agentAddress: agent.address,
      pki: s.mount,
      role: s.role,
      auth: { token: inline('never-sent') },
    });
    await ca.issue({ identity: web, ttlSeconds: 3600 });
    expect(agent.seen.map((r) => r.path)).toEqual(['/v1/kmesh-pki-default/issue/dataplane-proxies']);
    expect(agent.seen[0]?.headers['x-vault-token']).toBeUndefined();
  });

  it('sends X-Vault-Namespace: the mount inside a namespace is found only with it', async () => {
    const v = await server(false);
    await ok(vaultCall(v, 'POST', 'sys/namespaces/team-a', {}));
    const s = await seedVault(v, { roleArgs: EC, namespace: 'team-a' });
    const inNs = await backend({ address: v.address, namespace: 'team-a', pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    await inNs.issue({ identity: web, ttlSeconds: 3600 });
    const outside = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(v.rootToken) } });
    await expect(outside.issue({ identity: web, ttlSeconds: 3600 })).rejects.toThrow(/no secrets engine is mounted at "kmesh-pki-default"/);
  });
});

describe('health and roots', () => {
  it('health: ok, then sealed, then a revoked-looking token', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    expect((await ca.health()).ok).toBe(true);
    v.seal();
    expect(await ca.health()).toMatchObject({ ok: false, reason: expect.stringContaining('is sealed') });
    v.unseal();
    const bad = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline('hvs.gone') } });
    expect(await bad.health()).toMatchObject({ ok: false, reason: expect.stringContaining('invalid token') });
  });

  it("roots come from the mount's ca_chain before anything is issued (root and intermediate)", async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, intermediate: true });
    const ca = await backend({ address: v.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    const roots = await ca.roots();
    expect(roots).toHaveLength(2);
    expect(new X509Certificate(roots[1]!).fingerprint256).toBe(new X509Certificate(s.rootPem).fingerprint256);
    expect(v.stats().byPath['kmesh-pki-default/issue/dataplane-proxies']).toBeUndefined();
  });

  it('when ca_chain cannot be read, roots fail before the first issuance and come from it afterwards', async () => {
    const v = await server(false);
    const s = await seedVault(v, { roleArgs: EC, intermediate: true });
    const denied = JSON.stringify({ errors: ['1 error occurred:\n\t* permission denied\n\n'] });
    const p = await proxy(v.address, { answer: (path) => (/ca_chain|ca\/pem/.test(path) ? { status: 403, body: denied } : undefined) });
    const ca = await backend({ address: p.address, pki: s.mount, role: s.role, auth: { token: inline(s.token) } });
    await expect(ca.roots()).rejects.toThrow(
      /answered 403 to GET kmesh-pki-default\/ca_chain: permission denied.*no certificate has been issued through this backend yet/,
    );
    await ca.issue({ identity: web, ttlSeconds: 3600 });
    const roots = await ca.roots();
    expect(roots.map((r) => new X509Certificate(r).fingerprint256).at(-1)).toBe(new X509Certificate(s.rootPem).fingerprint256);
    expect(roots).toHaveLength(2);
  });
});

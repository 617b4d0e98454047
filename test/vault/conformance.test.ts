import { X509Certificate } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import nodeVault from 'node-vault';
import { EXTERNAL, type Target, call, ok, openTarget } from './harness.js';

// Error shapes and token behaviour. Exact strings are Vault's (see docs/vault-test-server.md);
// against a real server the permission-denied bodies are only checked to contain the phrase,
// because Vault and OpenBao word the multi-error wrapper slightly differently.

const PERMISSION_DENIED_ACL = '1 error occurred:\n\t* permission denied\n\n';

let t: Target;
let mount: string;
let policy: string;
const cleanup: Array<() => Promise<unknown>> = [];

async function tokenWith(policies: string[], extra: Record<string, unknown> = {}): Promise<string> {
  const r = await ok(call(t, 'POST', 'auth/token/create', { policies, ...extra }));
  return String(r.json.auth?.client_token);
}

beforeAll(async () => {
  t = await openTarget({ tls: true });
  mount = t.unique('conf-pki');
  policy = t.unique('conf-issue');
  await ok(call(t, 'POST', `sys/mounts/${mount}`, { type: 'pki' }));
  cleanup.push(() => call(t, 'DELETE', `sys/mounts/${mount}`));
  await ok(call(t, 'POST', `sys/mounts/${mount}/tune`, { max_lease_ttl: '8760h' }));
  await ok(call(t, 'POST', `${mount}/root/generate/internal`, { common_name: 'Conformance Root', ttl: '8760h', key_type: 'ec' }));
  await ok(
    call(t, 'POST', `${mount}/roles/dp`, {
      allowed_uri_sans: 'spiffe://default/*,kuma://*',
      allowed_domains: 'mesh',
      allow_subdomains: true,
      require_cn: false,
      key_type: 'ec',
      key_bits: 256,
      max_ttl: '720h',
      ttl: '24h',
    }),
  );
  await ok(call(t, 'PUT', `sys/policies/acl/${policy}`, { policy: `path "${mount}/issue/dp" { capabilities = ["update"] }` }));
  cleanup.push(() => call(t, 'DELETE', `sys/policies/acl/${policy}`));
});

afterAll(async () => {
  if (t?.external) for (const c of cleanup.reverse()) await c();
  await t?.stop();
});

describe('request pipeline errors', () => {
  it('no token: 403 permission denied', async () => {
    const r = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token: null });
    expect(r.status).toBe(403);
    expect(r.json.errors?.[0]).toContain('permission denied');
  });

  it('a token whose policy does not cover the path: 403 with the ACL error shape', async () => {
    const token = await tokenWith([policy]);
    const r = await call(t, 'POST', `${mount}/roles/dp`, { ttl: '1h' }, { token });
    expect(r.status).toBe(403);
    if (!EXTERNAL) expect(r.json.errors).toEqual([PERMISSION_DENIED_ACL]);
    else expect(r.json.errors?.[0]).toContain('permission denied');
    // ...and the granted path works with the same token.
    const issued = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token });
    expect(issued.status).toBe(200);
  });

  it('a role outside the policy is denied like a wrong token, not reported missing', async () => {
    const token = await tokenWith([policy]);
    const r = await call(t, 'POST', `${mount}/issue/other-role`, { uri_sans: 'spiffe://default/a' }, { token });
    expect(r.status).toBe(403);
  });

  it('missing role: 400 unknown role', async () => {
    const r = await call(t, 'POST', `${mount}/issue/nope`, { uri_sans: 'spiffe://default/a' });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual(['unknown role: nope']);
  });

  it('missing mount: 404 no handler for route', async () => {
    const path = `${t.unique('no-such-pki')}/issue/dp`;
    const r = await call(t, 'POST', path, { uri_sans: 'spiffe://default/a' });
    expect(r.status).toBe(404);
    expect(r.json.errors).toEqual([`no handler for route ${JSON.stringify(path)}. route entry not found.`]);
  });

  it('reading a role that does not exist: 404 with an empty error list', async () => {
    const r = await call(t, 'GET', `${mount}/roles/nope`);
    expect(r.status).toBe(404);
    expect(r.json.errors).toEqual([]);
  });
});

describe('role enforcement on issue', () => {
  it("URI SAN outside allowed_uri_sans: 400 with Vault's message", async () => {
    const r = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://other-mesh/backend' });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual(['URI Subject Alternative Names were provided via the API which are not valid for this role']);
  });

  it('glob semantics: kuma://* matches across slashes, spiffe://default/* needs the prefix', async () => {
    const r = await ok(call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'kuma://kuma.io/service/a/b,spiffe://default/x/y' }));
    const sans = new X509Certificate(String(r.json.data?.certificate)).subjectAltName;
    expect(sans).toContain('URI:kuma://kuma.io/service/a/b');
    const bad = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://defaultx/y' });
    expect(bad.status).toBe(400);
  });

  it('common_name is checked against allowed_domains / allow_subdomains', async () => {
    const good = await ok(call(t, 'POST', `${mount}/issue/dp`, { common_name: 'backend.mesh', uri_sans: 'spiffe://default/backend' }));
    const cert = new X509Certificate(String(good.json.data?.certificate));
    expect(cert.subject).toBe('CN=backend.mesh');
    expect(cert.subjectAltName).toContain('DNS:backend.mesh');
    const bad = await call(t, 'POST', `${mount}/issue/dp`, { common_name: 'backend.example.com' });
    expect(bad.status).toBe(400);
    expect(bad.json.errors).toEqual(['common name backend.example.com not allowed by this role']);
    const bare = await call(t, 'POST', `${mount}/issue/dp`, { common_name: 'mesh' });
    expect(bare.json.errors).toEqual(['common name mesh not allowed by this role']);
  });

  it('require_cn (default true) demands a common name', async () => {
    await ok(call(t, 'POST', `${mount}/roles/cn-required`, { allow_any_name: true, key_type: 'ec' }));
    const r = await call(t, 'POST', `${mount}/issue/cn-required`, {});
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0]).toBe(
      'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false',
    );
  });

  it("ttl beyond the CA's own expiry is refused (leaf_not_after_behavior=err)", async () => {
    await ok(call(t, 'POST', `${mount}/roles/long`, { allowed_uri_sans: '*', require_cn: false, key_type: 'ec', max_ttl: '87600h' }));
    const r = await call(t, 'POST', `${mount}/issue/long`, { uri_sans: 'spiffe://default/a', ttl: '9000h' });
    expect(r.status).toBe(400);
    expect(r.json.errors?.[0]).toMatch(
      /^cannot satisfy request, as TTL would result in notAfter of .* that is beyond the expiration of the CA certificate at /,
    );
  });

  it('sign/<role> applies the same checks to a CSR', async () => {
    const { buildCsr, generateKeys, pemOf } = await import('../servers/vault/pki/x509.js');
    const keys = await generateKeys({ type: 'ec', bits: 256 });
    const good = await buildCsr('', ['spiffe://default/csr'], keys);
    const r = await ok(call(t, 'POST', `${mount}/sign/dp`, { csr: pemOf(good) }));
    expect(new X509Certificate(String(r.json.data?.certificate)).subjectAltName).toBe('URI:spiffe://default/csr');
    expect(r.json.data?.private_key).toBeUndefined();
    const bad = await buildCsr('', ['spiffe://elsewhere/csr'], keys);
    const refused = await call(t, 'POST', `${mount}/sign/dp`, { csr: pemOf(bad) });
    expect(refused.json.errors).toEqual(['URI Subject Alternative Names were provided via CSR which are not valid for this role']);
  });
});

describe('tokens', () => {
  it('renew-self extends a renewable token, capped by explicit_max_ttl with a warning', async () => {
    const token = await tokenWith([policy], { ttl: '1h', explicit_max_ttl: '90m' });
    const r = await ok(call(t, 'POST', 'auth/token/renew-self', { increment: '2h' }, { token }));
    expect(r.json.auth?.client_token).toBe(token);
    expect(r.json.auth?.lease_duration).toBeGreaterThan(5390);
    expect(r.json.auth?.lease_duration).toBeLessThanOrEqual(5400);
    expect(r.json.warnings?.[0]).toMatch(
      /^TTL of "2h" exceeded the effective max_ttl of "(1h30m|1h29m5\ds)"; TTL value is capped accordingly$/,
    );
    const self = await ok(call(t, 'GET', 'auth/token/lookup-self', undefined, { token }));
    expect(self.json.data?.ttl).toBeGreaterThan(5000);
  });

  it('renew-self of a non-renewable token: 400 lease is not renewable', async () => {
    const token = await tokenWith([policy], { ttl: '1h', renewable: false });
    const r = await call(t, 'POST', 'auth/token/renew-self', {}, { token });
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual(['lease is not renewable']);
  });

  it('node-vault tokenRenewSelf / tokenLookupSelf work against it', async () => {
    const token = await tokenWith([policy], { ttl: '10m' });
    const vault = nodeVault({ endpoint: t.address, token, requestOptions: t.caCertPem ? { ca: t.caCertPem } : {} });
    const looked = (await vault.tokenLookupSelf()) as { data: { renewable: boolean; policies: string[] } };
    expect(looked.data.renewable).toBe(true);
    expect(looked.data.policies).toEqual(['default', policy].sort());
    const renewed = (await vault.tokenRenewSelf({ increment: '20m' })) as { auth: { lease_duration: number } };
    expect(renewed.auth.lease_duration).toBe(1200);
  });

  it('an expired token is refused with 403', async () => {
    const token = await tokenWith([policy], { ttl: '1s' });
    await sleep(2100);
    const r = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token });
    expect(r.status).toBe(403);
    expect(r.json.errors?.[0]).toContain('permission denied');
    if (!EXTERNAL) expect(r.json.errors).toEqual(['2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n']);
  });

  it('num_uses: the token dies after its last use', async () => {
    const token = await tokenWith([policy], { num_uses: 1 });
    expect((await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token })).status).toBe(200);
    expect((await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token })).status).toBe(403);
  });

  it('revoke-self ends the token', async () => {
    const token = await tokenWith([policy]);
    expect((await call(t, 'POST', 'auth/token/revoke-self', {}, { token })).status).toBe(204);
    expect((await call(t, 'GET', 'auth/token/lookup-self', undefined, { token })).status).toBe(403);
  });
});

describe('cert auth', () => {
  // A unique path: a shared server may have cert auth enabled at cert/ already.
  let certPath = 'cert';
  beforeAll(() => {
    certPath = t.unique('cert');
  });
  it.skipIf(EXTERNAL && !process.env.VAULT_CERT_AUTH)('logs in with the TLS client certificate of the connection', async () => {
    await ok(call(t, 'POST', `sys/auth/${certPath}`, { type: 'cert' }));
    cleanup.push(() => call(t, 'DELETE', `sys/auth/${certPath}`));
    // The zone's client certificate comes from the same PKI: trust that CA for login.
    const caPem = (await ok(call(t, 'GET', `${mount}/ca/pem`, undefined, { token: null }))).text;
    await ok(call(t, 'POST', `auth/${certPath}/certs/zone-cps`, { certificate: caPem, token_policies: policy, token_ttl: '1h' }));
    await ok(call(t, 'POST', `${mount}/roles/client`, { allow_any_name: true, key_type: 'ec', client_flag: true, server_flag: false }));
    const issued = await ok(call(t, 'POST', `${mount}/issue/client`, { common_name: 'zone-1' }));
    const clientCert = { certPem: String(issued.json.data?.certificate), keyPem: String(issued.json.data?.private_key) };

    const login = await ok(call(t, 'POST', `auth/${certPath}/login`, {}, { token: null, clientCert }));
    const auth = login.json.auth;
    expect(auth?.policies).toEqual(['default', policy].sort());
    expect(auth?.lease_duration).toBe(3600);
    expect(auth?.renewable).toBe(true);
    expect(auth?.metadata?.cert_name).toBe('zone-cps');
    expect(auth?.metadata?.common_name).toBe('zone-1');
    const use = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token: String(auth?.client_token) });
    expect(use.status).toBe(200);
    // Renewing a cert-auth token needs the same client certificate on the renewal's connection.
    const bare = await call(t, 'POST', 'auth/token/renew-self', {}, { token: String(auth?.client_token) });
    expect(bare.status).toBe(400);
    expect(bare.json.errors).toEqual(['no client certificate found']);
    const renewed = await call(t, 'POST', 'auth/token/renew-self', {}, { token: String(auth?.client_token), clientCert });
    expect(renewed.status).toBe(200);
  });

  it.skipIf(EXTERNAL)('no client certificate, or an untrusted one: 400', async () => {
    const none = await call(t, 'POST', `auth/${certPath}/login`, {}, { token: null });
    expect(none.status).toBe(400);
    expect(none.json.errors).toEqual(['invalid certificate or no client certificate supplied']);
    await ok(call(t, 'POST', 'sys/mounts/other-pki', { type: 'pki' }));
    await ok(call(t, 'POST', 'other-pki/root/generate/internal', { common_name: 'Other', key_type: 'ec', ttl: '24h' }));
    await ok(call(t, 'POST', 'other-pki/roles/any', { allow_any_name: true, key_type: 'ec' }));
    const foreign = await ok(call(t, 'POST', 'other-pki/issue/any', { common_name: 'intruder', ttl: '1h' }));
    const r = await call(
      t,
      'POST',
      `auth/${certPath}/login`,
      {},
      {
        token: null,
        clientCert: { certPem: String(foreign.json.data?.certificate), keyPem: String(foreign.json.data?.private_key) },
      },
    );
    expect(r.status).toBe(400);
    expect(r.json.errors).toEqual(['invalid certificate or no client certificate supplied']);
  });
});

describe.skipIf(EXTERNAL && !process.env.VAULT_NAMESPACES)('namespaces', () => {
  it('mounts, policies and tokens are per namespace', async () => {
    const a = t.unique('team-a');
    const b = t.unique('team-b');
    // Unique mount and policy names: a shared server may already have a pki/ mount in its root namespace.
    const pki = t.unique('ns-pki');
    const issue = t.unique('ns-issue');
    for (const ns of [a, b]) {
      await ok(call(t, 'POST', `sys/namespaces/${ns}`, {}));
      cleanup.push(() => call(t, 'DELETE', `sys/namespaces/${ns}`));
      await ok(call(t, 'POST', `sys/mounts/${pki}`, { type: 'pki' }, { namespace: ns }));
      await ok(call(t, 'POST', `${pki}/root/generate/internal`, { common_name: ns, key_type: 'ec', ttl: '24h' }, { namespace: ns }));
      await ok(
        call(t, 'POST', `${pki}/roles/dp`, { allowed_uri_sans: '*', require_cn: false, key_type: 'ec', ttl: '1h' }, { namespace: ns }),
      );
      await ok(
        call(t, 'PUT', `sys/policies/acl/${issue}`, { policy: `path "${pki}/issue/dp" { capabilities = ["update"] }` }, { namespace: ns }),
      );
    }
    const created = await ok(call(t, 'POST', 'auth/token/create', { policies: [issue] }, { namespace: a }));
    const token = String(created.json.auth?.client_token);

    const own = await call(t, 'POST', `${pki}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token, namespace: a });
    expect(own.status).toBe(200);
    expect(new X509Certificate(String(own.json.data?.issuing_ca)).subject).toBe(`CN=${a}`);

    const other = await call(t, 'POST', `${pki}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token, namespace: b });
    expect(other.status).toBe(403);
    const root = await call(t, 'POST', `${pki}/issue/dp`, { uri_sans: 'spiffe://default/a' }, { token });
    expect(root.status).toBe(403);

    // The root namespace does not see the namespaced mount at all.
    const rootView = await call(t, 'GET', 'sys/mounts');
    expect(Object.keys(rootView.json.data ?? {})).not.toContain(`${pki}/`);
  });
});

describe.skipIf(EXTERNAL)('seal', () => {
  it('sealed: 503 Vault is sealed everywhere but health/unseal; health reports it', async () => {
    const server = t.server;
    if (!server) throw new Error('in-process server expected');
    server.seal();
    try {
      const r = await call(t, 'POST', `${mount}/issue/dp`, { uri_sans: 'spiffe://default/a' });
      expect(r.status).toBe(503);
      expect(r.json.errors).toEqual(['Vault is sealed']);
      const h = await call(t, 'GET', 'sys/health', undefined, { token: null });
      expect(h.status).toBe(503);
      expect(h.json).toMatchObject({ initialized: true, sealed: true, standby: false });
      const wrong = await call(t, 'PUT', 'sys/unseal', { key: 'nope' }, { token: null });
      expect(wrong.status).toBe(400);
      const un = await ok(call(t, 'PUT', 'sys/unseal', { key: server.unsealKey }, { token: null }));
      expect(un.json.sealed).toBe(false);
    } finally {
      server.unseal();
    }
    const h = await ok(call(t, 'GET', 'sys/health', undefined, { token: null }));
    expect(h.json).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(typeof h.json.version).toBe('string');
  });

  it('sys/seal needs sudo: a policy-limited token cannot seal', async () => {
    const token = await tokenWith([policy]);
    const r = await call(t, 'PUT', 'sys/seal', {}, { token });
    expect(r.status).toBe(403);
  });

  it('latency and per-path request counts for benchmarks', async () => {
    const server = t.server;
    if (!server) throw new Error('in-process server expected');
    const before = server.stats().byPath[`${mount}/roles/dp`] ?? 0;
    await call(t, 'GET', `${mount}/roles/dp`);
    expect(server.stats().byPath[`${mount}/roles/dp`]).toBe(before + 1);
  });
});

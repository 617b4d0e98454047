// The acmpca backend against the ACM-PCA-compatible test server (test/servers/acmpca), through
// the real @aws-sdk/client-acm-pca: issuance, templates, validity, polling, throttling, the
// in-flight bound, credentials from secrets and from the default chain, TLS, and every refusal.
import { X509Certificate } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, generateCa, generateP256Key, isIssuedBy, parseCertificate, verifyKeyMatchesCert } from '@meshca/pki';
import type { ResourceStore } from '@meshca/store';
import { CaError, identityUriSans, type CaBackend } from '../src/index.js';
import { openAcmPcaBackend, type AcmPcaOptions } from '../src/acmpca/index.js';
import {
  acmpcaContext,
  closedPort,
  startAcmPcaServer,
  startAnswerDropper,
  startSanStripper,
  storeWithSecrets,
  webIdentity,
  type AcmPcaServer,
} from './acmpca-helpers.js';

const HOUR = 3_600_000;
const creds = { awsCredentials: { accessKey: { secret: 'ak' }, accessKeySecret: { secret: 'sk' } } };

/** Opens a backend on `conf`, with secrets ak/sk holding the given key pair. */
async function open(
  pca: { endpoint: string; credentials: { accessKeyId: string; secretAccessKey: string } },
  conf: Record<string, unknown>,
  options: AcmPcaOptions = {},
  extra: Record<string, unknown> = {},
  secrets: Record<string, string> = {},
): Promise<{ ca: CaBackend; store: ResourceStore }> {
  const store = await storeWithSecrets({ ak: pca.credentials.accessKeyId, sk: pca.credentials.secretAccessKey, ...secrets });
  const ca = await openAcmPcaBackend(acmpcaContext(store, conf, extra), { endpoint: pca.endpoint, baseDelayMs: 20, ...options });
  opened.push(ca);
  return { ca, store };
}
const opened: CaBackend[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((ca) => ca.close()));
});

async function failure(p: Promise<unknown>): Promise<CaError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(CaError);
    return err as CaError;
  }
  throw new Error('expected the call to fail');
}

describe('acmpca backend: issuance on the test server', () => {
  let pca: AcmPcaServer;
  let arn: string;
  beforeAll(async () => {
    pca = await startAcmPcaServer();
    arn = await pca.createCa();
  });
  afterAll(() => pca?.stop());

  it('issues a certificate with the SPIFFE and kuma URIs, the common name and the requested lifetime', async () => {
    const { ca } = await open(pca, { arn, commonName: '{{ tag "kuma.io/service" }}.mesh', auth: creds });
    const before = Date.now();
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 24 * 3600 });
    const leaf = parseCertificate(out.certChainPem);
    expect(leaf.uriSans).toEqual(identityUriSans(webIdentity));
    expect(leaf.uriSans).toEqual(['spiffe://default/web', 'kuma://kuma.io/service/web', 'kuma://version/v1']);
    expect(leaf.commonName).toBe('web.mesh');
    expect(leaf.isCa).toBe(false);
    expect(Math.abs(leaf.notAfter.getTime() - (before + 24 * HOUR))).toBeLessThan(60_000);
    expect(out.notAfter).toEqual(leaf.notAfter);
    expect(out.serial).toBe(leaf.serial);
    expect(verifyKeyMatchesCert(leaf.pem, out.keyPem!)).toBe(true);
    const [, issuer, root] = out.certChainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----\n/g)!;
    expect(isIssuedBy(leaf.pem, issuer!)).toBe(true);
    expect(parseCertificate(root!).fingerprint256).toBe(parseCertificate(pca.rootPem(arn)!).fingerprint256);
    expect(pca.stats().accessKeyIds).toEqual([pca.credentials.accessKeyId]);
  });

  it('sends a sub-day lifetime as an absolute end date, so a 1h certificate lives one hour', async () => {
    const { ca } = await open(pca, { arn, auth: creds });
    const before = Date.now();
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 });
    expect(Math.abs(out.notAfter.getTime() - (before + HOUR))).toBeLessThan(60_000);
    expect(parseCertificate(out.certChainPem).commonName).toBeUndefined();
  });

  it('caps the lifetime at the CA certificate instead of asking for one AWS would refuse', async () => {
    const shortArn = await pca.createCa({ validityDays: 1 });
    const { ca } = await open(pca, { arn: shortArn, auth: creds });
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 30 * 24 * 3600 });
    const caCert = (await ca.roots())[0]!;
    expect(out.notAfter.getTime()).toBeLessThanOrEqual(parseCertificate(caCert).notAfter.getTime());
    expect(out.notAfter.getTime()).toBeGreaterThan(Date.now() + 20 * HOUR);
  });

  it('signs a dataplane CSR without seeing its key, and the identity comes from the API, not the CSR', async () => {
    const { ca } = await open(pca, { arn, auth: creds });
    const key = generateP256Key();
    // A CSR asking for another service's identity: API passthrough overrides its SANs.
    const csrPem = createCsr({ keyPem: key.keyPem, uriSans: ['spiffe://default/admin'] });
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600, csrPem });
    expect(out.keyPem).toBeUndefined();
    const leaf = parseCertificate(out.certChainPem);
    expect(verifyKeyMatchesCert(leaf.pem, key.keyPem)).toBe(true);
    expect(leaf.uriSans).toEqual(identityUriSans(webIdentity));
  });

  it.each(['RSA_2048', 'EC_secp384r1'])('picks the signing algorithm that fits a %s CA', async (keyAlgorithm) => {
    const otherArn = await pca.createCa({ keyAlgorithm });
    const { ca } = await open(pca, { arn: otherArn, auth: creds });
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 });
    const leaf = new X509Certificate(out.certChainPem);
    const issuer = new X509Certificate((await ca.roots())[0]!);
    expect(leaf.verify(issuer.publicKey)).toBe(true);
    expect(issuer.publicKey.asymmetricKeyType).toBe(keyAlgorithm.startsWith('RSA') ? 'rsa' : 'ec');
    expect(pca.stats().errors.InvalidArgsException).toBeUndefined();
  });

  it('serves the trust roots from GetCertificateAuthorityCertificate and caches them', async () => {
    const { ca } = await open(pca, { arn, auth: creds });
    const before = pca.stats().requests.GetCertificateAuthorityCertificate ?? 0;
    const roots = await ca.roots();
    expect(roots).toHaveLength(2);
    expect(parseCertificate(roots[0]!).isCa).toBe(true);
    expect(roots[1]).toBe(parseCertificate(pca.rootPem(arn)!).pem);
    expect(await ca.roots()).toEqual(roots);
    expect(pca.stats().requests.GetCertificateAuthorityCertificate).toBe(before + 1);
  });

  it('reports health from the CA status', async () => {
    const healthArn = await pca.createCa();
    const { ca } = await open(pca, { arn: healthArn, auth: creds });
    expect(await ca.health()).toMatchObject({ ok: true });
    pca.setCaStatus(healthArn, 'DISABLED');
    const h = await ca.health();
    expect(h.ok).toBe(false);
    expect(h.reason).toBe(`certificate authority ${healthArn} is DISABLED, not ACTIVE`);
  });

  it('trims whitespace and newlines around keys read from secrets and files', async () => {
    const { ca } = await open(
      pca,
      { arn, auth: creds },
      {},
      {},
      { ak: `  ${pca.credentials.accessKeyId}\n`, sk: `${pca.credentials.secretAccessKey}\r\n` },
    );
    await expect(ca.issue({ identity: webIdentity, ttlSeconds: 3600 })).resolves.toBeDefined();
  });
});

describe('acmpca backend: RequestInProgress, throttling and the in-flight bound', () => {
  const servers: AcmPcaServer[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.stop())));
  const start = async (o: Parameters<typeof startAcmPcaServer>[0]) => {
    const s = await startAcmPcaServer(o);
    servers.push(s);
    return { pca: s, arn: await s.createCa() };
  };

  it('polls GetCertificate while the certificate is in progress', async () => {
    const { pca, arn } = await start({ issueDelayMs: 600 });
    const { ca } = await open(pca, { arn, auth: creds }, { pollIntervalMs: 50 });
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 });
    expect(parseCertificate(out.certChainPem).uriSans).toContain('spiffe://default/web');
    expect(pca.stats().errors.RequestInProgressException).toBeGreaterThanOrEqual(1);
    expect(pca.stats().requests.GetCertificate).toBe((pca.stats().errors.RequestInProgressException ?? 0) + 1);
  });

  it('gives up at dpCert.requestTimeout with a retryable error that says the certificate is still in progress', async () => {
    const { pca, arn } = await start({ issueDelayMs: 60_000 });
    const { ca } = await open(pca, { arn, auth: creds }, { pollIntervalMs: 50 }, { dpCert: { requestTimeout: '1s' } });
    const err = await failure(ca.issue({ identity: webIdentity, ttlSeconds: 3600 }));
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      /^acmpca backend "acmpca-1": certificate from arn:aws:acm-pca:\S+ was still being issued when the request timed out \(RequestInProgressException: .+\); raise dpCert.requestTimeout or retry$/,
    );
  });

  it('retries throttled requests with backoff until they pass', async () => {
    const { pca, arn } = await start({ ratePerSecond: 2 });
    const { ca } = await open(pca, { arn, auth: creds }, { maxAttempts: 20, baseDelayMs: 100, maxDelayMs: 1000 });
    const identities = ['a', 'b', 'c', 'd', 'e'].map((s) => ({ ...webIdentity, name: s, tags: { 'kuma.io/service': [s] } }));
    const pending = Promise.all(identities.map((identity) => ca.issue({ identity, ttlSeconds: 3600 })));
    // While throttled: requests sleep in backoff (what meshca_ca_client_backing_off reports).
    let backingOff = 0;
    const watch = setInterval(() => (backingOff = Math.max(backingOff, ca.clientState?.().backingOff ?? 0)), 5);
    const out = await pending.finally(() => clearInterval(watch));
    expect(out.map((o) => parseCertificate(o.certChainPem).uriSans[0])).toEqual(identities.map((i) => `spiffe://default/${i.name}`));
    expect(pca.stats().throttled).toBeGreaterThan(0);
    expect(pca.stats().issued).toBe(identities.length);
    expect(backingOff).toBeGreaterThan(0);
    // Every throttled request was sent again: the retries count them; nothing is in flight or asleep now.
    expect(ca.clientState?.()).toEqual({ inFlight: 0, queued: 0, retries: pca.stats().throttled, backingOff: 0 });
  });

  it('retries an IssueCertificate whose answer was lost with the same idempotency token: one certificate', async () => {
    const { pca, arn } = await start({});
    const proxy = await startAnswerDropper(pca.endpoint, 1);
    try {
      const { ca } = await open({ endpoint: proxy.endpoint, credentials: pca.credentials }, { arn, auth: creds });
      const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 });
      expect(parseCertificate(out.certChainPem).uriSans[0]).toBe('spiffe://default/web');
      expect(pca.stats().requests.IssueCertificate).toBe(2);
      expect(pca.stats().issued).toBe(1);
    } finally {
      await proxy.stop();
    }
  });

  it('reports throttling that outlasts the attempts as retryable, with AWS code and message', async () => {
    const { pca, arn } = await start({ ratePerSecond: 1 });
    const { ca } = await open(pca, { arn, auth: creds }, { maxAttempts: 1 });
    const results = await Promise.allSettled([1, 2, 3].map(() => ca.issue({ identity: webIdentity, ttlSeconds: 3600 })));
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as CaError);
    expect(rejected.length).toBeGreaterThan(0);
    expect(rejected[0]!.retryable).toBe(true);
    expect(rejected[0]!.message).toMatch(
      /^acmpca backend "acmpca-1": ACM PCA kept throttling \w+ after 1 attempts \(ThrottlingException: Rate exceeded\)/,
    );
  });

  it('keeps at most maxInFlight requests in flight and queues the rest', async () => {
    const bounded = await start({ latencyMs: 30 });
    const { ca } = await open(bounded.pca, { arn: bounded.arn, auth: creds }, { maxInFlight: 2 });
    const burst = (backend: CaBackend) =>
      Promise.all(Array.from({ length: 8 }, (_, i) => backend.issue({ identity: { ...webIdentity, name: `dp-${i}` }, ttlSeconds: 3600 })));
    await burst(ca);
    expect(bounded.pca.stats().maxInFlight).toBeLessThanOrEqual(2);
    expect(bounded.pca.stats().issued).toBe(8);

    // The same burst with a wider bound does overlap more: the bound above is what held it.
    const wide = await start({ latencyMs: 30 });
    const { ca: wideCa } = await open(wide.pca, { arn: wide.arn, auth: creds }, { maxInFlight: 8 });
    await burst(wideCa);
    expect(wide.pca.stats().maxInFlight).toBeGreaterThan(2);
  });
});

describe('acmpca backend: credentials', () => {
  let pca: AcmPcaServer;
  let arn: string;
  const saved = { ...process.env };
  beforeAll(async () => {
    pca = await startAcmPcaServer({ accessKeyId: 'AKIDFROMENV', secretAccessKey: 'env-secret' });
    arn = await pca.createCa();
  });
  afterAll(() => pca?.stop());
  afterEach(() => {
    for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  it('uses the default credential chain (environment) when conf.auth is absent', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDFROMENV';
    process.env.AWS_SECRET_ACCESS_KEY = 'env-secret';
    delete process.env.AWS_SESSION_TOKEN;
    const { ca } = await open(pca, { arn });
    const out = await ca.issue({ identity: webIdentity, ttlSeconds: 3600 });
    expect(parseCertificate(out.certChainPem).uriSans[0]).toBe('spiffe://default/web');
    expect(pca.stats().accessKeyIds).toEqual(['AKIDFROMENV']);
  });

  it('signs with the secret from conf.auth (the server verifies SigV4 here)', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDOTHER';
    process.env.AWS_SECRET_ACCESS_KEY = 'other';
    const { ca } = await open(pca, { arn, auth: creds });
    await expect(ca.issue({ identity: webIdentity, ttlSeconds: 3600 })).resolves.toBeDefined();
  });

  it('refuses a wrong secret with AWS InvalidSignatureException and never shows the secret', async () => {
    const { ca } = await open(
      { endpoint: pca.endpoint, credentials: { accessKeyId: 'AKIDFROMENV', secretAccessKey: 'wrong-secret-value' } },
      { arn, auth: creds },
    );
    const err = await failure(ca.issue({ identity: webIdentity, ttlSeconds: 3600 }));
    expect(err.retryable).toBe(false);
    expect(err.message).toBe(
      'acmpca backend "acmpca-1": AWS did not accept the credentials (InvalidSignatureException: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.); check conf.auth.awsCredentials.accessKey and accessKeySecret',
    );
    expect(err.message).not.toContain('wrong-secret-value');
  });

  it('refuses an unknown access key with UnrecognizedClientException, naming the default chain when that was used', async () => {
    process.env.AWS_ACCESS_KEY_ID = 'AKIDUNKNOWN';
    process.env.AWS_SECRET_ACCESS_KEY = 'whatever';
    const { ca } = await open(pca, { arn });
    const err = await failure(ca.issue({ identity: webIdentity, ttlSeconds: 3600 }));
    expect(err.message).toMatch(
      /^acmpca backend "acmpca-1": AWS did not accept the credentials \(UnrecognizedClientException: The security token included in the request is invalid\.\); check the default credential chain \(AWS_ACCESS_KEY_ID/,
    );
  });

  it('fails at open when a credential secret is missing, naming the field', async () => {
    const store = await storeWithSecrets({ ak: 'AKIDFROMENV' });
    await expect(openAcmPcaBackend(acmpcaContext(store, { arn, auth: creds }), { endpoint: pca.endpoint })).rejects.toThrow(
      'conf.auth.awsCredentials.accessKeySecret.secret: secret "sk" does not exist in mesh "default" nor as a global secret',
    );
  });
});

describe('acmpca backend: refusals name the backend and what AWS answered', () => {
  let pca: AcmPcaServer;
  let arn: string;
  beforeAll(async () => {
    pca = await startAcmPcaServer({ deniedAccessKeyIds: ['AKIDDENIED'] });
    arn = await pca.createCa();
  });
  afterAll(() => pca?.stop());
  const issue = (ca: CaBackend) => failure(ca.issue({ identity: webIdentity, ttlSeconds: 3600 }));

  it('unknown CA ARN: ResourceNotFoundException', async () => {
    const unknown = arn.replace(/[0-9a-f]{8}-/, '00000000-');
    const { ca } = await open(pca, { arn: unknown, auth: creds });
    const err = await issue(ca);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(
      new RegExp(
        `^acmpca backend "acmpca-1": ACM PCA in region us-east-1 has no certificate authority ${unknown.replace(/[/]/g, '\\/')} \\(ResourceNotFoundException: .+\\); check conf.arn`,
      ),
    );
  });

  it('malformed ARN: refused at open', async () => {
    const store = await storeWithSecrets({});
    await expect(openAcmPcaBackend(acmpcaContext(store, { arn: 'arn:aws:acm:us-east-1:1:certificate/x' }))).rejects.toThrow(
      'acmpca backend "acmpca-1": conf.arn "arn:aws:acm:us-east-1:1:certificate/x" is not an ACM PCA certificate authority ARN',
    );
  });

  it('access denied: AccessDeniedException with the permissions to grant', async () => {
    const { ca } = await open(
      { endpoint: pca.endpoint, credentials: { accessKeyId: 'AKIDDENIED', secretAccessKey: 'x' } },
      { arn, auth: creds },
    );
    const err = await issue(ca);
    expect(err.retryable).toBe(false);
    expect(err.message).toMatch(
      /^acmpca backend "acmpca-1": AWS denied DescribeCertificateAuthority on \S+ \(AccessDeniedException: User: .* is not authorized to perform: acm-pca:DescribeCertificateAuthority .*\); the credentials' IAM policy must allow acm-pca:IssueCertificate/,
    );
  });

  it('CA not active: says its status, before and after the backend has seen it active', async () => {
    const disabled = await pca.createCa();
    pca.setCaStatus(disabled, 'DISABLED');
    const { ca } = await open(pca, { arn: disabled, auth: creds });
    expect((await issue(ca)).message).toBe(
      `acmpca backend "acmpca-1": certificate authority ${disabled} is DISABLED, not ACTIVE; enable it or point conf.arn at an active CA`,
    );

    const pending = await pca.createCa({ pending: true });
    const { ca: pendingCa } = await open(pca, { arn: pending, auth: creds });
    expect((await issue(pendingCa)).message).toMatch(/is PENDING_CERTIFICATE, not ACTIVE; import its CA certificate/);

    // Active at first, disabled later: AWS's InvalidStateException, with the status looked up.
    const later = await pca.createCa();
    const { ca: laterCa } = await open(pca, { arn: later, auth: creds });
    await laterCa.issue({ identity: webIdentity, ttlSeconds: 3600 });
    pca.setCaStatus(later, 'DISABLED');
    const err = await issue(laterCa);
    // A CA's state is an outage to wait out (with backoff), not a refusal of the request.
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      /^acmpca backend "acmpca-1": certificate authority \S+ is DISABLED, not ACTIVE \(InvalidStateException: .+\); enable it \(aws acm-pca update-certificate-authority --status ACTIVE\)/,
    );
  });

  it('unreachable endpoint: retryable, with the endpoint and the socket error', async () => {
    const port = await closedPort();
    const { ca } = await open(
      { endpoint: `http://127.0.0.1:${port}`, credentials: pca.credentials },
      { arn, auth: creds },
      { maxAttempts: 3 },
    );
    const err = await issue(ca);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      new RegExp(
        `^acmpca backend "acmpca-1": cannot reach ACM PCA at http://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED.*\\) after 3 attempts; check the endpoint`,
      ),
    );
    const h = await ca.health();
    expect(h.ok).toBe(false);
    expect(h.reason).toMatch(/cannot reach ACM PCA/);
  });

  it('URI SANs dropped by the CA: refused, naming the template', async () => {
    const proxy = await startSanStripper(pca.endpoint);
    try {
      const { ca } = await open({ endpoint: proxy.endpoint, credentials: pca.credentials }, { arn, auth: creds });
      const err = await issue(ca);
      expect(err.retryable).toBe(false);
      expect(err.message).toBe(
        'acmpca backend "acmpca-1": ACM PCA issued a certificate without the URI SANs spiffe://default/web, kuma://kuma.io/service/web, kuma://version/v1 (template EndEntityCertificate_APIPassthrough/V1); the CA dropped the dataplane identity — the CA or a template policy must allow API-passthrough subject alternative names',
      );
    } finally {
      await proxy.stop();
    }
  });

  it('URI SANs dropped when the base template meets a CSR without them: refused, naming that template', async () => {
    const { ca } = await open(pca, { arn, auth: creds }, { template: 'EndEntityCertificate/V1' });
    const key = generateP256Key();
    const err = await failure(
      ca.issue({ identity: webIdentity, ttlSeconds: 3600, csrPem: createCsr({ keyPem: key.keyPem, uriSans: [], commonName: 'web' }) }),
    );
    expect(err.message).toMatch(/without the URI SANs spiffe:\/\/default\/web, .* \(template EndEntityCertificate\/V1\)/);
  });
});

describe('acmpca backend: HTTPS endpoint verified with conf.caCert', () => {
  let pca: AcmPcaServer;
  let arn: string;
  beforeAll(async () => {
    pca = await startAcmPcaServer({ https: true });
    arn = await pca.createCa();
  });
  afterAll(() => pca?.stop());
  const issue = (ca: CaBackend) => failure(ca.issue({ identity: webIdentity, ttlSeconds: 3600 }));

  it('issues when conf.caCert holds the CA of the endpoint', async () => {
    const { ca } = await open(pca, { arn, caCert: { secret: 'tls-ca' }, auth: creds }, {}, {}, { 'tls-ca': pca.caCertPem! });
    await expect(ca.issue({ identity: webIdentity, ttlSeconds: 3600 })).resolves.toBeDefined();
  });

  it('fails, retryably and naming conf.caCert, when it holds another CA', async () => {
    const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const { ca } = await open(pca, { arn, caCert: { inlineString: other.certPem }, auth: creds });
    const err = await issue(ca);
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(
      new RegExp(
        `^acmpca backend "acmpca-1": the TLS certificate of the ACM PCA endpoint ${pca.endpoint.replace(/\./g, '\\.')} did not verify \\((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY).*\\); conf.caCert must hold the CA`,
      ),
    );
  });

  it('refuses a caCert that is not PEM at open', async () => {
    const store = await storeWithSecrets({});
    await expect(openAcmPcaBackend(acmpcaContext(store, { arn, caCert: { inlineString: 'not a certificate' } }))).rejects.toThrow(
      'conf.caCert is not a PEM certificate bundle',
    );
  });
});

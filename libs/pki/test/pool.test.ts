import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createCsr,
  createIssuerPool,
  generateCa,
  generateP256Key,
  isIssuedBy,
  parseCertificate,
  verifyKeyMatchesCert,
} from '../src/index.js';
import type { CaMaterial, IssuerPool } from '../src/index.js';

describe('createIssuerPool', () => {
  let pool: IssuerPool;
  let ca: CaMaterial;
  beforeAll(() => {
    pool = createIssuerPool({ workers: 2, maxBatch: 8 });
    ca = generateCa({ commonName: 'pool root', keyType: 'ecdsa-p256', validitySeconds: 3600 });
  });
  afterAll(async () => {
    await pool.close();
  });

  const job = (service: string) => {
    const notBefore = new Date(Date.now() - 60_000);
    return { uriSans: [`spiffe://default/${service}`], notBefore, notAfter: new Date(notBefore.getTime() + 600_000) };
  };

  it('issues on worker threads: each result is its own key and a certificate from the CA', async () => {
    const issuer = pool.issuer({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => issuer.issue(job(`svc-${i}`))));
    const serials = new Set(results.map((r) => r.serial));
    expect(serials.size).toBe(40);
    results.forEach((r, i) => {
      expect(isIssuedBy(r.certPem, ca.certPem)).toBe(true);
      expect(verifyKeyMatchesCert(r.certPem, r.keyPem ?? '')).toBe(true);
      const parsed = parseCertificate(r.certPem);
      expect(parsed.uriSans).toEqual([`spiffe://default/svc-${i}`]);
      expect(parsed.serial).toBe(r.serial);
      expect(parsed.notAfter.getTime()).toBe(r.notAfter.getTime());
    });
    await issuer.close();
    await expect(issuer.issue(job('late'))).rejects.toThrow(/closed/);
  });

  it('signs CSRs in the workers and reports a bad CSR as that job failing', async () => {
    const issuer = pool.issuer({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const key = generateP256Key();
    const csrPem = createCsr({ keyPem: key.keyPem, uriSans: ['spiffe://default/evil'] });
    const [good, bad] = await Promise.allSettled([
      issuer.issue({ ...job('web'), csrPem }),
      issuer.issue({ ...job('web'), csrPem: 'nope' }),
    ]);
    expect(good.status).toBe('fulfilled');
    if (good.status === 'fulfilled') {
      expect(good.value.keyPem).toBeUndefined();
      // SANs come from the job, never from the CSR.
      expect(parseCertificate(good.value.certPem).uriSans).toEqual(['spiffe://default/web']);
      expect(verifyKeyMatchesCert(good.value.certPem, key.keyPem)).toBe(true);
    }
    expect(bad.status).toBe('rejected');
    if (bad.status === 'rejected') expect(String(bad.reason)).toMatch(/CERTIFICATE REQUEST/);
    await issuer.close();
  });

  it('keeps several CAs apart and refuses a mismatched CA up front', async () => {
    const other = generateCa({ commonName: 'other root', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const a = pool.issuer({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const b = pool.issuer({ caCertPem: other.certPem, caKeyPem: other.keyPem });
    const [ra, rb] = await Promise.all([a.issue(job('a')), b.issue(job('b'))]);
    expect(isIssuedBy(ra.certPem, ca.certPem)).toBe(true);
    expect(isIssuedBy(rb.certPem, other.certPem)).toBe(true);
    expect(isIssuedBy(rb.certPem, ca.certPem)).toBe(false);
    expect(() => pool.issuer({ caCertPem: ca.certPem, caKeyPem: other.keyPem })).toThrow(/does not match/);
    await Promise.all([a.close(), b.close()]);
  });
});

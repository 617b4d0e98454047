import 'reflect-metadata';
import { createPrivateKey, createPublicKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  certificateChainFromPem,
  createLeafSigner,
  generateCa,
  generateP256Key,
  isIssuedBy,
  parseCertificate,
  verifyKeyMatchesCert,
} from '../src/index.js';
import type { CaMaterial } from '../src/index.js';
import { openssl } from './openssl.js';

x509.cryptoProvider.set(globalThis.crypto);

const HOUR = 3600;
const SANS = ['spiffe://default/web', 'kuma://kuma.io/service/web', 'kuma://version/v1'];

function window(seconds: number): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + seconds * 1000) };
}

describe('generateCa', () => {
  let ec: CaMaterial;
  let rsa: CaMaterial;
  beforeAll(() => {
    ec = generateCa({
      commonName: 'meshca default',
      keyType: 'ecdsa-p256',
      validitySeconds: 10 * 365 * 86400,
      uriSans: ['spiffe://default'],
    });
    rsa = generateCa({ commonName: 'meshca rsa', keyType: { rsaBits: 2048 }, validitySeconds: HOUR });
  });

  it('makes a self-signed P-256 root that openssl and @peculiar/x509 read as a CA', async () => {
    const cert = new x509.X509Certificate(ec.certPem);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.critical).toBe(true);
    expect(cert.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    expect(await cert.verify({ publicKey: cert, signatureOnly: true })).toBe(true);
    expect(cert.subject).toBe('CN=meshca default');
    const text = openssl(['x509', '-in', '{ca}', '-noout', '-text'], { ca: ec.certPem });
    expect(text).toMatch(/CA:TRUE/);
    expect(text).toMatch(/Certificate Sign, CRL Sign/);
    expect(text).toMatch(/URI:spiffe:\/\/default/);
    expect(text).toMatch(/ecdsa-with-SHA256/);
    openssl(['verify', '-CAfile', '{ca}', '{ca}'], { ca: ec.certPem });
  });

  it('makes RSA roots with the requested size, signed with sha256WithRSAEncryption', () => {
    const parsed = parseCertificate(rsa.certPem);
    expect(parsed.isCa).toBe(true);
    expect(parsed.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(openssl(['x509', '-in', '{ca}', '-noout', '-text'], { ca: rsa.certPem })).toMatch(/sha256WithRSAEncryption/);
    expect(() => generateCa({ commonName: 'x', keyType: { rsaBits: 1024 }, validitySeconds: 60 })).toThrow(/at least 2048/);
  });

  it('parses validity, serial and subject, and matches keys to certificates', () => {
    const parsed = parseCertificate(ec.certPem);
    expect(parsed.subject).toBe('CN=meshca default');
    expect(parsed.commonName).toBe('meshca default');
    expect(parsed.uriSans).toEqual(['spiffe://default']);
    expect(parsed.serial).toMatch(/^[89a-f][0-9a-f]{31}$/);
    expect(parsed.serial).toBe(new X509Certificate(ec.certPem).serialNumber.toLowerCase());
    const years = (parsed.notAfter.getTime() - Date.now()) / (365 * 86400_000);
    expect(years).toBeGreaterThan(9.99);
    expect(years).toBeLessThan(10.01);
    expect(parsed.notBefore.getTime()).toBeLessThan(Date.now());
    expect(verifyKeyMatchesCert(ec.certPem, ec.keyPem)).toBe(true);
    expect(verifyKeyMatchesCert(ec.certPem, rsa.keyPem)).toBe(false);
    const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: HOUR });
    expect(verifyKeyMatchesCert(ec.certPem, other.keyPem)).toBe(false);
  });

  it('splits a PEM bundle into its certificates, ignoring text around them', () => {
    const bundle = `subject=CN = a\n${ec.certPem}\n# comment\n${rsa.certPem}`;
    const chain = certificateChainFromPem(bundle);
    expect(chain.map((c) => parseCertificate(c).commonName)).toEqual(['meshca default', 'meshca rsa']);
  });
});

describe('createLeafSigner', () => {
  let ca: CaMaterial;
  beforeAll(() => {
    ca = generateCa({ commonName: 'root', keyType: 'ecdsa-p256', validitySeconds: HOUR });
  });

  it('signs a leaf that @peculiar/x509, node and openssl accept, with the fixed extensions', async () => {
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const key = generateP256Key();
    const w = window(HOUR);
    const pem = signer.sign({ publicKey: key.spkiDer, uriSans: SANS, ...w });

    const cert = new x509.X509Certificate(pem);
    const root = new x509.X509Certificate(ca.certPem);
    expect(await cert.verify({ publicKey: root, signatureOnly: true })).toBe(true);
    expect(cert.subject).toBe('');
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.critical).toBe(true); // empty subject: RFC 5280 requires a critical SAN
    expect(san?.names.toJSON()).toEqual(SANS.map((value) => ({ type: 'url', value })));
    const ku = cert.getExtension(x509.KeyUsagesExtension);
    expect(ku?.critical).toBe(true);
    expect(ku?.usages).toBe(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement);
    expect([...(cert.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])]).toEqual(['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']);
    expect(cert.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(false);
    expect(cert.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId).toBe(
      root.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    expect(cert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId).toMatch(/^[0-9a-f]{40}$/);
    expect(cert.notBefore.getTime()).toBe(Math.floor(w.notBefore.getTime() / 1000) * 1000);
    expect(cert.notAfter.getTime()).toBe(Math.floor(w.notAfter.getTime() / 1000) * 1000);

    const node = new X509Certificate(pem);
    expect(node.verify(new X509Certificate(ca.certPem).publicKey)).toBe(true);
    expect(node.checkIssued(new X509Certificate(ca.certPem))).toBe(true);
    expect(isIssuedBy(pem, ca.certPem)).toBe(true);

    const text = openssl(['x509', '-in', '{leaf}', '-noout', '-text'], { leaf: pem });
    expect(text).toMatch(/Digital Signature, Key Encipherment, Key Agreement/);
    expect(text).toMatch(/TLS Web Server Authentication, TLS Web Client Authentication/);
    expect(text).toMatch(/CA:FALSE/);
    expect(text).toMatch(/URI:spiffe:\/\/default\/web, URI:kuma:\/\/kuma.io\/service\/web, URI:kuma:\/\/version\/v1/);
    expect(openssl(['verify', '-purpose', 'sslclient', '-CAfile', '{ca}', '{leaf}'], { ca: ca.certPem, leaf: pem })).toMatch(/OK/);
    expect(openssl(['verify', '-purpose', 'sslserver', '-CAfile', '{ca}', '{leaf}'], { ca: ca.certPem, leaf: pem })).toMatch(/OK/);
  });

  it('puts a common name in the subject and then leaves the SAN non-critical', () => {
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const pem = signer.sign({ publicKey: generateP256Key().spkiDer, uriSans: SANS, commonName: 'web.mesh', ...window(60) });
    const cert = new x509.X509Certificate(pem);
    expect(cert.subject).toBe('CN=web.mesh');
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.critical).toBe(false);
    expect(parseCertificate(pem).commonName).toBe('web.mesh');
  });

  it('accepts KeyObjects of any supported type, and honours a given serial', () => {
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const rsaKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    const pem = signer.sign({ publicKey: rsaKey, uriSans: SANS, serial: '0abc', ...window(60) });
    const parsed = parseCertificate(pem);
    expect(parsed.serial).toBe('abc');
    expect(parsed.publicKey.asymmetricKeyType).toBe('rsa');
    expect(isIssuedBy(pem, ca.certPem)).toBe(true);
  });

  it('signs with sha256WithRSAEncryption under an RSA CA', async () => {
    const rsaCa = generateCa({ commonName: 'rsa root', keyType: { rsaBits: 2048 }, validitySeconds: HOUR });
    const signer = createLeafSigner({ caCertPem: rsaCa.certPem, caKeyPem: rsaCa.keyPem });
    expect(signer.algorithm).toBe('sha256WithRSAEncryption');
    const pem = signer.sign({ publicKey: generateP256Key().spkiDer, uriSans: SANS, ...window(60) });
    const cert = new x509.X509Certificate(pem);
    expect(cert.signatureAlgorithm).toMatchObject({ name: 'RSASSA-PKCS1-v1_5', hash: { name: 'SHA-256' } });
    expect(await cert.verify({ publicKey: new x509.X509Certificate(rsaCa.certPem), signatureOnly: true })).toBe(true);
  });

  it('draws distinct positive 128-bit serials', () => {
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const key = generateP256Key();
    const serials = new Set<string>();
    for (let i = 0; i < 300; i++) serials.add(signer.signDer({ publicKey: key.spkiDer, uriSans: SANS, ...window(60) }).serial);
    expect(serials.size).toBe(300);
    for (const s of serials) expect(s).toMatch(/^[89a-f][0-9a-f]{31}$/);
  });

  it('refuses a CA key that does not belong to the CA certificate, and non-ASCII URIs', () => {
    const other = generateCa({ commonName: 'other', keyType: 'ecdsa-p256', validitySeconds: HOUR });
    expect(() => createLeafSigner({ caCertPem: ca.certPem, caKeyPem: other.keyPem })).toThrow(/does not match/);
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    expect(() => signer.sign({ publicKey: generateP256Key().spkiDer, uriSans: ['spiffe://default/wéb'], ...window(60) })).toThrow(
      /printable ASCII/,
    );
  });
});

describe('generateP256Key', () => {
  it('encodes the same SPKI and PKCS#8 that Node itself writes for that key', () => {
    for (let i = 0; i < 20; i++) {
      const key = generateP256Key();
      const priv = createPrivateKey(key.keyPem);
      expect(priv.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
      expect(priv.export({ type: 'pkcs8', format: 'pem' })).toBe(key.keyPem);
      expect(createPublicKey(priv).export({ type: 'spki', format: 'der' }).equals(key.spkiDer)).toBe(true);
    }
    expect(openssl(['pkey', '-in', '{k}', '-noout', '-check'], { k: generateP256Key().keyPem })).toMatch(/valid/);
  });
});

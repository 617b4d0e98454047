import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createCsr, generateP256Key, parseCsr, pemToDer, derToPem } from '../src/index.js';
import { openssl } from './openssl.js';

describe('CSRs', () => {
  it('round-trips a P-256 CSR: key, SANs and common name, and openssl verifies its signature', () => {
    const key = generateP256Key();
    const pem = createCsr({ keyPem: key.keyPem, uriSans: ['spiffe://default/web', 'kuma://env/prod'], commonName: 'web.mesh' });
    const parsed = parseCsr(pem);
    expect(parsed.spkiDer.equals(key.spkiDer)).toBe(true);
    expect(parsed.uriSans).toEqual(['spiffe://default/web', 'kuma://env/prod']);
    expect(parsed.commonName).toBe('web.mesh');
    const text = openssl(['req', '-in', '{csr}', '-noout', '-verify', '-text'], { csr: pem });
    expect(text).toMatch(/URI:spiffe:\/\/default\/web/);
  });

  it('reads CSRs that openssl made, RSA included', () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pem = openssl(['req', '-new', '-key', '{key}', '-subj', '/CN=legacy', '-addext', 'subjectAltName=URI:spiffe://default/legacy'], {
      key: keyPem,
    });
    const parsed = parseCsr(pem);
    expect(parsed.publicKey.asymmetricKeyType).toBe('rsa');
    expect(parsed.uriSans).toEqual(['spiffe://default/legacy']);
    expect(parsed.commonName).toBe('legacy');
  });

  it('refuses a CSR whose content was changed after signing', () => {
    const pem = createCsr({ keyPem: generateP256Key().keyPem, uriSans: ['spiffe://default/web'] });
    const der = pemToDer(pem, 'CERTIFICATE REQUEST');
    const at = der.indexOf(Buffer.from('web'));
    expect(at).toBeGreaterThan(0);
    der.write('bad', at, 'ascii');
    expect(() => parseCsr(derToPem(der, 'CERTIFICATE REQUEST'))).toThrow(/does not verify/);
  });

  it('refuses weak keys and things that are not CSRs', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const pem = openssl(['req', '-new', '-key', '{key}', '-subj', '/CN=weak'], { key: weak });
    expect(() => parseCsr(pem)).toThrow(/at least 2048/);
    expect(() => parseCsr('hello')).toThrow(/CERTIFICATE REQUEST/);
  });
});

// The DER summary against node's own X509Certificate (OpenSSL) on certificates meshca makes and on
// one openssl makes with several name attributes and both kinds of SAN.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLocalIssuer, generateCa, summarizeChain } from '../src/index.js';

/** What OpenSSL says of the same certificate, in the summary's shape. */
function openssl(pem: string) {
  const x = new X509Certificate(pem);
  const names = (s: string | undefined) => (s ?? '').split('\n').filter(Boolean).join(', ');
  const sans = (x.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    subject: names(x.subject),
    issuer: names(x.issuer),
    serial: x.serialNumber.toLowerCase(), // byte by byte, as OpenSSL prints it (a leading 0 nibble stays)
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    uriSans: sans.filter((s) => s.startsWith('URI:')).map((s) => s.slice(4)),
    dnsSans: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    sha256: x.fingerprint256.replace(/:/g, '').toLowerCase(),
  };
}

describe('summarizeChain', () => {
  it('reads a leaf meshca issues and its CA as OpenSSL does', async () => {
    const ca = generateCa({ commonName: 'meshca default ca-1', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    const issuer = createLocalIssuer({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const leaf = await issuer.issue({
      uriSans: ['spiffe://default/web', 'kuma://kuma.io/service/web'],
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 3600_000),
    });
    const [summary] = summarizeChain(leaf.certPem);
    expect(summary).toEqual({ ...openssl(leaf.certPem), serial: leaf.serial });
    expect(summary?.issuer).toBe('CN=meshca default ca-1');
    expect(summarizeChain(ca.certPem)).toEqual([openssl(ca.certPem)]);
  });

  it('reads several name attributes and DNS SANs (a certificate made by openssl)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshca-summary-'));
    try {
      execFileSync('openssl', [
        ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'],
        ...['-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-days', '2'],
        // A serial whose first byte is below 0x10: its hex keeps the leading 0, byte by byte.
        ...['-set_serial', '0x03496e8c'],
        ...['-subj', '/C=DE/ST=Berlin/O=Example Org/OU=Mesh/CN=web.example'],
        ...['-addext', 'subjectAltName=DNS:web.example,URI:spiffe://example/web,DNS:*.web.example'],
      ]);
      const pem = readFileSync(join(dir, 'c.pem'), 'utf8');
      const [summary] = summarizeChain(`some text before\n${pem}`);
      expect(summary).toEqual(openssl(pem));
      expect(summary?.subject).toBe('C=DE, ST=Berlin, O=Example Org, OU=Mesh, CN=web.example');
      expect(summary?.dnsSans).toEqual(['web.example', '*.web.example']);
      expect(summary?.serial).toBe('03496e8c');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

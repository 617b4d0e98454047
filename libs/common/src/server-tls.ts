import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** The CA that signed certPem: what clients pass as their trusted CA file. */
  caPem: string;
  caFile: string;
}

export interface ServerTlsOptions {
  /** Directory holding `<name>-ca.pem`, `<name>.pem`, `<name>.key` (created on first start). */
  dir: string;
  name: string;
  /** DNS names and IP addresses the certificate must be valid for. */
  hosts: string[];
}

/**
 * Loads the server certificate from `dir`, or creates a small self-signed CA and a server
 * certificate on first start, so TLS is on even when the operator provided nothing.
 */
export async function loadOrCreateServerTls(opts: ServerTlsOptions): Promise<ServerTls> {
  const caFile = join(opts.dir, `${opts.name}-ca.pem`);
  const certFile = join(opts.dir, `${opts.name}.pem`);
  const keyFile = join(opts.dir, `${opts.name}.key`);
  try {
    const [caPem, certPem, keyPem] = await Promise.all([readFile(caFile, 'utf8'), readFile(certFile, 'utf8'), readFile(keyFile, 'utf8')]);
    return { caPem, certPem, keyPem, caFile };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const made = await createSelfSignedServerTls(opts.name, opts.hosts);
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  await writeFile(keyFile, made.keyPem, { mode: 0o600 });
  await writeFile(certFile, made.certPem, { mode: 0o644 });
  await writeFile(caFile, made.caPem, { mode: 0o644 });
  return { ...made, caFile };
}

const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

export async function createSelfSignedServerTls(name: string, hosts: string[]): Promise<Omit<ServerTls, 'caFile'>> {
  x509.cryptoProvider.set(webcrypto);
  const now = Date.now();
  const notBefore = new Date(now - 60_000);
  const notAfter = new Date(now + 10 * 365 * 24 * 3600_000);
  const caKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: `CN=meshca ${name} CA`,
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject: `CN=${hosts[0] ?? 'localhost'}`,
    issuer: ca.subject,
    notBefore,
    notAfter,
    publicKey: keys.publicKey,
    signingKey: caKeys.privateKey,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? ('ip' as const) : ('dns' as const), value: h }))),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return {
    caPem: ca.toString('pem') + '\n',
    certPem: cert.toString('pem') + '\n',
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') + '\n',
  };
}

function randomSerial(): string {
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] = (bytes[0] ?? 0) & 0x7f;
  return Buffer.from(bytes).toString('hex');
}

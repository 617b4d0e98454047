import 'reflect-metadata';
import { KeyObject, X509Certificate as NodeX509, randomBytes, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
// WebCrypto types from Node's own definitions (the DOM lib is not loaded).
type Algorithm = webcrypto.Algorithm;
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
type EcKeyAlgorithm = webcrypto.EcKeyAlgorithm;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type EcdsaParams = webcrypto.EcdsaParams;
type RsaHashedKeyAlgorithm = webcrypto.RsaHashedKeyAlgorithm;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

x509.cryptoProvider.set(webcrypto);
const subtle = webcrypto.subtle;

export type KeyType = 'rsa' | 'ec';

export interface KeySpec {
  type: KeyType;
  bits: number;
}

export function keyAlgorithm(spec: KeySpec): RsaHashedKeyGenParams | EcKeyGenParams {
  if (spec.type === 'ec') return { name: 'ECDSA', namedCurve: spec.bits === 384 ? 'P-384' : spec.bits === 521 ? 'P-521' : 'P-256' };
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength: spec.bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

function signingAlgorithm(key: CryptoKey): Algorithm | EcdsaParams {
  return key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };
}

export async function generateKeys(spec: KeySpec): Promise<CryptoKeyPair> {
  return await subtle.generateKey(keyAlgorithm(spec), true, ['sign', 'verify']);
}

/** Vault's default private key encoding: PKCS#1 for RSA, SEC1 for EC (pkcs8 on request). */
export function privateKeyPem(key: CryptoKey, format: 'der' | 'pem' | 'pkcs8' | string): { pem: string; type: KeyType } {
  const ko = KeyObject.from(key);
  const type: KeyType = ko.asymmetricKeyType === 'ec' ? 'ec' : 'rsa';
  const encoding = format === 'pkcs8' ? 'pkcs8' : type === 'ec' ? 'sec1' : 'pkcs1';
  return { pem: String(ko.export({ type: encoding, format: 'pem' })).trim(), type };
}

export function keySpecOf(publicKey: CryptoKey): KeySpec {
  const alg = publicKey.algorithm as RsaHashedKeyAlgorithm & EcKeyAlgorithm;
  if (alg.name === 'ECDSA') return { type: 'ec', bits: Number(alg.namedCurve.slice(2)) };
  return { type: 'rsa', bits: alg.modulusLength };
}

/** Colon-separated lower-case hex, the way Vault prints serial numbers. */
export function serialColons(hex: string): string {
  const clean = hex.replace(/^0+(?=..)/, '');
  const even = clean.length % 2 ? `0${clean}` : clean;
  return (even.match(/../g) ?? []).join(':').toLowerCase();
}

function newSerialHex(): string {
  const b = randomBytes(20);
  b[0] = (b[0] ?? 0) & 0x7f; // positive INTEGER
  return b.toString('hex');
}

export interface CertSpec {
  commonName: string;
  dnsNames?: string[];
  uris?: string[];
  notAfter: Date;
  isCa: boolean;
  maxPathLength?: number;
  keyUsage: number; // x509.KeyUsageFlags bitmask
  extKeyUsage: string[]; // OIDs
  basicConstraintsForLeaf?: boolean;
}

export interface Signer {
  cert: x509.X509Certificate | null; // null = self-signed
  privateKey: CryptoKey;
}

function subjectName(cn: string): x509.JsonName {
  return cn ? [{ CN: [cn] }] : [];
}

/** Builds and signs a certificate the way Vault's certutil does (SKID, AKID, SAN critical when the subject is empty). */
export async function buildCertificate(spec: CertSpec, publicKey: CryptoKey, signer: Signer): Promise<x509.X509Certificate> {
  const extensions: x509.Extension[] = [];
  if (spec.isCa) {
    extensions.push(new x509.BasicConstraintsExtension(true, spec.maxPathLength, true));
  } else if (spec.basicConstraintsForLeaf) {
    extensions.push(new x509.BasicConstraintsExtension(false, undefined, true));
  }
  if (spec.keyUsage !== 0) extensions.push(new x509.KeyUsagesExtension(spec.keyUsage, true));
  if (spec.extKeyUsage.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(spec.extKeyUsage));
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(publicKey));
  const issuerPublic = signer.cert ? await signer.cert.publicKey.export() : publicKey;
  extensions.push(await x509.AuthorityKeyIdentifierExtension.create(issuerPublic));
  const names: Array<{ type: 'dns' | 'url'; value: string }> = [
    ...(spec.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(spec.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, spec.commonName === ''));
  // Vault backdates notBefore by 30s to absorb clock skew.
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000 - 30_000);
  return x509.X509CertificateGenerator.create({
    serialNumber: newSerialHex(),
    subject: subjectName(spec.commonName),
    issuer: signer.cert ? signer.cert.subjectName : subjectName(spec.commonName),
    notBefore,
    notAfter: new Date(Math.floor(spec.notAfter.getTime() / 1000) * 1000),
    publicKey,
    signingKey: signer.privateKey,
    signingAlgorithm: signingAlgorithm(signer.privateKey),
    extensions,
  });
}

export async function buildCsr(commonName: string, uris: string[], keys: CryptoKeyPair): Promise<x509.Pkcs10CertificateRequest> {
  const extensions: x509.Extension[] = [];
  if (uris.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url' as const, value }))));
  return x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(commonName),
    keys,
    signingAlgorithm: signingAlgorithm(keys.privateKey),
    extensions,
  });
}

export function pemOf(cert: x509.X509Certificate | x509.Pkcs10CertificateRequest): string {
  return cert.toString('pem').replace(/\r\n/g, '\n').trim();
}

export function splitPemBlocks(text: string): string[] {
  return [...text.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => m[0]);
}

export function parseCertificate(pem: string): x509.X509Certificate {
  return new x509.X509Certificate(pem);
}

export function parseCsr(pem: string): x509.Pkcs10CertificateRequest {
  return new x509.Pkcs10CertificateRequest(pem.trim());
}

export function commonNameOf(name: x509.Name): string {
  return name.getField('CN')[0] ?? '';
}

export function sansOf(obj: x509.X509Certificate | x509.Pkcs10CertificateRequest): { dns: string[]; uris: string[] } {
  const found = obj.extensions.find((e) => e.type === '2.5.29.17');
  const ext = found ? new x509.SubjectAlternativeNameExtension(found.rawData) : undefined;
  const items = ext?.names.items ?? [];
  return {
    dns: items.filter((n) => n.type === 'dns').map((n) => n.value),
    uris: items.filter((n) => n.type === 'url').map((n) => n.value),
  };
}

export async function spkiFingerprint(key: CryptoKey | x509.PublicKey): Promise<string> {
  const raw = key instanceof x509.PublicKey ? key.rawData : await subtle.exportKey('spki', key);
  return Buffer.from(raw).toString('hex');
}

/** Node's X509Certificate, for checks that should not trust our own builder. */
export function nodeCert(pem: string): NodeX509 {
  return new NodeX509(pem);
}

export { x509 };

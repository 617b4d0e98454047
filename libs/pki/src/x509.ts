// Certificate building blocks shared by the CA generator and the leaf signer, and a reader for the
// few certificate fields the rest of the code needs as raw DER (issuer name bytes, key identifiers).
import { createHash, randomFillSync, sign as cryptoSign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { SignatureAlgorithm } from './keys.js';
import {
  TAG,
  bitString,
  boolean,
  children,
  content,
  ctx,
  ctxPrimitive,
  decodeOid,
  DerError,
  expectTag,
  octetString,
  oid,
  readTlv,
  seq,
  set,
  time,
  utf8String,
  whole,
} from './der.js';
import type { Tlv } from './der.js';

export const OID = {
  commonName: '2.5.4.3',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  extensionRequest: '1.2.840.113549.1.9.14',
} as const;

/** [0] EXPLICIT INTEGER 2: X.509 v3. */
export const VERSION_V3 = Buffer.from('a003020102', 'hex');

export function nameDer(commonName?: string): Buffer {
  if (commonName === undefined || commonName === '') return seq();
  return seq(set(seq(oid(OID.commonName), utf8String(commonName))));
}

export function extension(oidDotted: string, critical: boolean, value: Uint8Array): Buffer {
  return critical ? seq(oid(oidDotted), boolean(true), octetString(value)) : seq(oid(oidDotted), octetString(value));
}

/** GeneralNames with one uniformResourceIdentifier [6] per URI. */
/** GeneralNames with dNSName [2] and iPAddress [7] entries besides the URIs [6] (server certificates). */
export function generalNames(names: { uris?: readonly string[]; dns?: readonly string[]; ips?: readonly string[] }): Buffer {
  const parts: Buffer[] = [];
  for (const d of names.dns ?? []) {
    if (!/^[A-Za-z0-9*.-]+$/.test(d)) throw new Error(`DNS SAN ${JSON.stringify(d)} must be a host name (letters, digits, "-", ".", "*")`);
    parts.push(ctxPrimitive(2, Buffer.from(d, 'ascii')));
  }
  for (const ip of names.ips ?? []) parts.push(ctxPrimitive(7, ipBytes(ip)));
  for (const u of names.uris ?? []) parts.push(uriName(u));
  return seq(...parts);
}

function ipBytes(ip: string): Buffer {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (v4) return Buffer.from(v4.slice(1).map(Number));
  if (!ip.includes(':')) throw new Error(`IP SAN ${JSON.stringify(ip)} is not an IPv4 or IPv6 address`);
  const [head = '', tail = ''] = ip.split('::');
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const h = groups(head);
  const t = ip.includes('::') ? groups(tail) : [];
  const all = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  if (all.length !== 8 || all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g)))
    throw new Error(`IP SAN ${JSON.stringify(ip)} is not an IPv6 address`);
  return Buffer.concat(all.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
}

function uriName(u: string): Buffer {
  // IA5String, and a URI has no spaces or control characters: refuse rather than mangle.
  if (!/^[\x21-\x7e]+$/.test(u)) throw new Error(`URI SAN ${JSON.stringify(u)} must be printable ASCII without spaces`);
  return ctxPrimitive(6, Buffer.from(u, 'ascii'));
}

export function uriGeneralNames(uris: readonly string[]): Buffer {
  return seq(...uris.map(uriName));
}

/** RFC 5280 4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING value. */
export function keyIdentifier(spkiDer: Uint8Array): Buffer {
  const spki = readTlv(spkiDer, 0);
  const bits = expectTag(children(spkiDer, spki)[1], TAG.BIT_STRING, 'SubjectPublicKeyInfo.subjectPublicKey');
  return createHash('sha1')
    .update(spkiDer.subarray(bits.contentStart + 1, bits.end))
    .digest();
}

// Serials: 16 random bytes with the top bit set, so every serial is exactly 128 bits and positive
// (DER needs a leading 0x00 byte). Random bytes are drawn in batches: one call per 256 serials.
const SERIAL_BATCH = 256;
const serialPool = Buffer.allocUnsafe(16 * SERIAL_BATCH);
let serialNext = SERIAL_BATCH;

export function randomSerial(): Buffer {
  if (serialNext >= SERIAL_BATCH) {
    randomFillSync(serialPool);
    serialNext = 0;
  }
  const out = Buffer.from(serialPool.subarray(serialNext * 16, serialNext * 16 + 16));
  serialNext++;
  out[0] = (out[0] ?? 0) | 0x80;
  return out;
}

/** INTEGER for a positive serial given as magnitude bytes. */
export function serialDer(serial: Uint8Array): Buffer {
  let start = 0;
  while (start < serial.length - 1 && serial[start] === 0) start++;
  const body = serial.subarray(start);
  const needsPad = ((body[0] ?? 0) & 0x80) !== 0;
  const out = Buffer.allocUnsafe(2 + (needsPad ? 1 : 0) + body.length);
  out[0] = TAG.INTEGER;
  out[1] = body.length + (needsPad ? 1 : 0);
  let o = 2;
  if (needsPad) out[o++] = 0;
  out.set(body, o);
  return out;
}

export interface CertificateParts {
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Uint8Array;
  extensions: Uint8Array[];
}

export function tbsCertificate(p: CertificateParts): Buffer {
  return seq(
    VERSION_V3,
    serialDer(p.serial),
    p.signatureAlgorithm.der,
    p.issuerDer,
    seq(time(p.notBefore), time(p.notAfter)),
    p.subjectDer,
    p.spkiDer,
    ctx(3, seq(...p.extensions)),
  );
}

export function signCertificate(tbs: Buffer, algorithm: SignatureAlgorithm, key: KeyObject): Buffer {
  const signature = cryptoSign(algorithm.hash, tbs, key);
  return seq(tbs, algorithm.der, bitString(signature));
}

// ---- reading

export interface RawExtension {
  critical: boolean;
  /** Contents of extnValue (the DER inside the OCTET STRING). */
  value: Uint8Array;
}

/** The fields of a certificate as raw DER; no signature check. */
export interface RawCertificate {
  tbsDer: Uint8Array;
  serial: Uint8Array;
  issuerDer: Uint8Array;
  subjectDer: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  spkiDer: Uint8Array;
  extensions: Map<string, RawExtension>;
}

export function decodeTime(buf: Uint8Array, t: Tlv): Date {
  const s = Buffer.from(content(buf, t)).toString('ascii');
  const m = /^(\d{2}|\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m || (t.tag === TAG.UTC_TIME) !== (m[1]?.length === 2)) throw new DerError(`unsupported time ${s}`);
  let year = Number(m[1]);
  if (t.tag === TAG.UTC_TIME) year += year < 50 ? 2000 : 1900;
  return new Date(Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])));
}

export function readExtensions(buf: Uint8Array, list: Tlv): Map<string, RawExtension> {
  const out = new Map<string, RawExtension>();
  for (const ext of children(buf, list)) {
    const parts = children(buf, ext);
    const id = decodeOid(content(buf, expectTag(parts[0], TAG.OID, 'Extension.extnID')));
    const critical = parts.length === 3 && parts[1]?.tag === TAG.BOOLEAN && buf[parts[1].contentStart] !== 0;
    const value = expectTag(parts[parts.length - 1], TAG.OCTET_STRING, 'Extension.extnValue');
    out.set(id, { critical, value: content(buf, value) });
  }
  return out;
}

export function readCertificate(der: Uint8Array): RawCertificate {
  const cert = readTlv(der, 0);
  const tbs = expectTag(children(der, cert)[0], TAG.SEQUENCE, 'Certificate.tbsCertificate');
  const f = children(der, tbs);
  let i = f[0]?.tag === 0xa0 ? 1 : 0;
  const serial = expectTag(f[i++], TAG.INTEGER, 'serialNumber');
  i++; // signature algorithm
  const issuer = expectTag(f[i++], TAG.SEQUENCE, 'issuer');
  const validity = children(der, expectTag(f[i++], TAG.SEQUENCE, 'validity'));
  const subject = expectTag(f[i++], TAG.SEQUENCE, 'subject');
  const spki = expectTag(f[i++], TAG.SEQUENCE, 'subjectPublicKeyInfo');
  let extensions = new Map<string, RawExtension>();
  for (; i < f.length; i++) {
    const t = f[i];
    if (t?.tag === 0xa3) extensions = readExtensions(der, expectTag(children(der, t)[0], TAG.SEQUENCE, 'extensions'));
  }
  const [nb, na] = validity;
  if (!nb || !na) throw new DerError('validity: expected notBefore and notAfter');
  let serialBytes = content(der, serial);
  if (serialBytes.length > 1 && serialBytes[0] === 0) serialBytes = serialBytes.subarray(1);
  return {
    tbsDer: whole(der, tbs),
    serial: serialBytes,
    issuerDer: whole(der, issuer),
    subjectDer: whole(der, subject),
    notBefore: decodeTime(der, nb),
    notAfter: decodeTime(der, na),
    spkiDer: whole(der, spki),
    extensions,
  };
}

/** URIs in a GeneralNames value (SubjectAltName extension contents). */
export function readUriSans(generalNames: Uint8Array): string[] {
  const list = readTlv(generalNames, 0);
  return children(generalNames, list)
    .filter((t) => t.tag === 0x86)
    .map((t) => Buffer.from(content(generalNames, t)).toString('ascii'));
}

/** SubjectKeyIdentifier contents (the key id bytes), if the extension is present. */
export function readKeyIdentifier(ext: RawExtension | undefined): Buffer | undefined {
  if (!ext) return undefined;
  const t = expectTag(readTlv(ext.value, 0), TAG.OCTET_STRING, 'SubjectKeyIdentifier');
  return Buffer.from(content(ext.value, t));
}

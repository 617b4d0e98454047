// The issuance hot path. Everything that is the same for every leaf of one CA (issuer name,
// algorithm identifiers, the fixed extensions, the authority key id) is encoded once here;
// per certificate only the serial, validity, subject, key, SANs and subject key id are encoded,
// concatenated, and signed with a CA key object that was parsed once.
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { bitString, ctxPrimitive, octetString, seq, oid } from './der.js';
import { signatureAlgorithmFor, toSpkiDer } from './keys.js';
import type { SignatureAlgorithm } from './keys.js';
import { derToPem, pemToDer } from './pem.js';
import {
  OID,
  extension,
  generalNames,
  keyIdentifier,
  nameDer,
  randomSerial,
  readCertificate,
  readKeyIdentifier,
  signCertificate,
  tbsCertificate,
  uriGeneralNames,
} from './x509.js';

export interface LeafSignRequest {
  /** The subject's public key: a KeyObject or SubjectPublicKeyInfo DER. */
  publicKey: KeyObject | Uint8Array;
  uriSans: readonly string[];
  /** Host names and IP addresses, for server certificates (the control planes' own TLS). */
  dnsSans?: readonly string[];
  ipSans?: readonly string[];
  commonName?: string;
  notBefore: Date;
  notAfter: Date;
  /** Positive serial as hex; random 128 bits when absent. */
  serial?: string;
}

export interface LeafSigner {
  readonly caCertPem: string;
  readonly algorithm: string;
  /** PEM certificate. */
  sign(request: LeafSignRequest): string;
  /** Same as sign, returning DER and the serial used (lower-case hex). */
  signDer(request: LeafSignRequest): { der: Buffer; serial: string };
}

// keyUsage: digitalSignature (bit 0), keyEncipherment (bit 2), keyAgreement (bit 4) -> 0b10101000, 3 unused bits.
const LEAF_KEY_USAGE = extension(OID.keyUsage, true, bitString(Uint8Array.of(0xa8), 3));
const LEAF_EXT_KEY_USAGE = extension(OID.extKeyUsage, false, seq(oid(OID.serverAuth), oid(OID.clientAuth)));
// cA defaults to FALSE, and DER omits defaults: an empty SEQUENCE.
const LEAF_BASIC_CONSTRAINTS = extension(OID.basicConstraints, true, seq());
const EMPTY_NAME = nameDer();

export function createLeafSigner(material: { caCertPem: string; caKeyPem: string }): LeafSigner {
  const caDer = pemToDer(material.caCertPem, 'CERTIFICATE');
  const ca = readCertificate(caDer);
  const key = createPrivateKey(material.caKeyPem);
  if (!toSpkiDer(key).equals(ca.spkiDer)) throw new Error('the CA private key does not match the CA certificate');
  const algorithm: SignatureAlgorithm = signatureAlgorithmFor(key);
  const issuerDer = Buffer.from(ca.subjectDer);
  const caKeyId = readKeyIdentifier(ca.extensions.get(OID.subjectKeyIdentifier)) ?? keyIdentifier(ca.spkiDer);
  const authorityKeyId = extension(OID.authorityKeyIdentifier, false, seq(ctxPrimitive(0, caKeyId)));
  const caCertPem = derToPem(caDer, 'CERTIFICATE');

  function signDer(r: LeafSignRequest): { der: Buffer; serial: string } {
    const hostSans = (r.dnsSans?.length ?? 0) + (r.ipSans?.length ?? 0);
    if (r.uriSans.length === 0 && hostSans === 0 && !r.commonName)
      throw new Error('a leaf certificate needs at least one SAN or a common name');
    const spkiDer = toSpkiDer(r.publicKey);
    const serial = r.serial !== undefined ? Buffer.from(r.serial.length % 2 ? `0${r.serial}` : r.serial, 'hex') : randomSerial();
    const subjectDer = r.commonName ? nameDer(r.commonName) : EMPTY_NAME;
    const extensions = [
      LEAF_KEY_USAGE,
      LEAF_EXT_KEY_USAGE,
      LEAF_BASIC_CONSTRAINTS,
      extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spkiDer))),
      authorityKeyId,
    ];
    // RFC 5280 4.2.1.6: with an empty subject the SAN extension must be critical.
    if (hostSans > 0) {
      const names = generalNames({ uris: r.uriSans, dns: r.dnsSans ?? [], ips: r.ipSans ?? [] });
      extensions.push(extension(OID.subjectAltName, !r.commonName, names));
    } else if (r.uriSans.length > 0) extensions.push(extension(OID.subjectAltName, !r.commonName, uriGeneralNames(r.uriSans)));
    const tbs = tbsCertificate({
      serial,
      signatureAlgorithm: algorithm,
      issuerDer,
      subjectDer,
      notBefore: r.notBefore,
      notAfter: r.notAfter,
      spkiDer,
      extensions,
    });
    return { der: signCertificate(tbs, algorithm, key), serial: serialHex(serial) };
  }

  return {
    caCertPem,
    algorithm: algorithm.name,
    signDer,
    sign: (r) => derToPem(signDer(r).der, 'CERTIFICATE'),
  };
}

export function serialHex(serial: Uint8Array): string {
  let hex = Buffer.from(serial)
    .toString('hex')
    .replace(/^0+(?=.)/, '');
  if (hex === '') hex = '0';
  return hex;
}

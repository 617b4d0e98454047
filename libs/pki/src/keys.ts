import { createECDH, createPublicKey, KeyObject } from 'node:crypto';
import { derToPem } from './pem.js';
import { nullDer, oid, seq } from './der.js';

export type KeyType = 'ecdsa-p256' | { rsaBits: number };

// DER prefixes of a P-256 SubjectPublicKeyInfo and PKCS#8 PrivateKeyInfo (with the public key, as
// OpenSSL writes it). Node's own key export goes through OpenSSL 3's encoder machinery and costs
// more than the key generation itself; filling these templates is a copy.
const P256_SPKI_PREFIX = Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex');
const P256_PKCS8_PREFIX = Buffer.from('308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420', 'hex');
const P256_PKCS8_PUBLIC = Buffer.from('a144034200', 'hex');

export interface LeafKey {
  /** SubjectPublicKeyInfo, DER. */
  spkiDer: Buffer;
  /** PKCS#8 PEM. */
  keyPem: string;
}

/** A fresh ECDSA P-256 key pair, already encoded for a certificate and for the dataplane. */
export function generateP256Key(): LeafKey {
  const ecdh = createECDH('prime256v1');
  const point = ecdh.generateKeys(); // uncompressed, 65 bytes
  let d = ecdh.getPrivateKey();
  if (d.length < 32) d = Buffer.concat([Buffer.alloc(32 - d.length), d]);
  const spkiDer = Buffer.concat([P256_SPKI_PREFIX, point]);
  const pkcs8 = Buffer.concat([P256_PKCS8_PREFIX, d, P256_PKCS8_PUBLIC, point]);
  return { spkiDer, keyPem: derToPem(pkcs8, 'PRIVATE KEY') };
}

export function toSpkiDer(publicKey: KeyObject | Uint8Array): Buffer {
  if (publicKey instanceof KeyObject) {
    const pub = publicKey.type === 'private' ? createPublicKey(publicKey) : publicKey;
    return pub.export({ type: 'spki', format: 'der' });
  }
  return Buffer.from(publicKey);
}

export interface SignatureAlgorithm {
  /** AlgorithmIdentifier DER, as it appears in TBSCertificate.signature and Certificate.signatureAlgorithm. */
  der: Buffer;
  /** Digest for crypto.sign; null for Ed25519. */
  hash: string | null;
  name: string;
}

/** The signature algorithm a CA key signs with: ECDSA with the curve's hash, or sha256WithRSAEncryption. */
export function signatureAlgorithmFor(key: KeyObject): SignatureAlgorithm {
  switch (key.asymmetricKeyType) {
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      if (curve === 'prime256v1') return { der: seq(oid('1.2.840.10045.4.3.2')), hash: 'sha256', name: 'ecdsa-with-SHA256' };
      if (curve === 'secp384r1') return { der: seq(oid('1.2.840.10045.4.3.3')), hash: 'sha384', name: 'ecdsa-with-SHA384' };
      if (curve === 'secp521r1') return { der: seq(oid('1.2.840.10045.4.3.4')), hash: 'sha512', name: 'ecdsa-with-SHA512' };
      throw new Error(`unsupported EC curve ${curve ?? 'unknown'}: use P-256, P-384 or P-521`);
    }
    case 'rsa':
      return { der: seq(oid('1.2.840.113549.1.1.11'), nullDer()), hash: 'sha256', name: 'sha256WithRSAEncryption' };
    case 'ed25519':
      return { der: seq(oid('1.3.101.112')), hash: null, name: 'Ed25519' };
    default:
      throw new Error(`unsupported key type ${key.asymmetricKeyType ?? 'unknown'}: use EC, RSA or Ed25519`);
  }
}

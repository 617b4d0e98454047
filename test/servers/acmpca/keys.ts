import { webcrypto } from 'node:crypto';
import { invalidArgs, validation } from './errors.js';

// The base tsconfig has no DOM lib, so WebCrypto types come from node:crypto.
export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcdsaParams = webcrypto.EcdsaParams;
type Algorithm = webcrypto.Algorithm;
type EcKeyGenParams = webcrypto.EcKeyGenParams;
type RsaHashedKeyGenParams = webcrypto.RsaHashedKeyGenParams;

export const subtle = webcrypto.subtle;

export type KeyFamily = 'RSA' | 'EC';

interface KeySpec {
  family: KeyFamily;
  generate: RsaHashedKeyGenParams | EcKeyGenParams;
}

const RSA = (bits: number): KeySpec => ({
  family: 'RSA',
  generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
});
const EC = (namedCurve: string): KeySpec => ({ family: 'EC', generate: { name: 'ECDSA', namedCurve } });

// KeyAlgorithm values of CreateCertificateAuthority (SM2 is left out: WebCrypto has no SM2).
export const KEY_ALGORITHMS: Record<string, KeySpec> = {
  RSA_2048: RSA(2048),
  RSA_3072: RSA(3072),
  RSA_4096: RSA(4096),
  EC_prime256v1: EC('P-256'),
  EC_secp384r1: EC('P-384'),
  EC_secp521r1: EC('P-521'),
};

interface SigningSpec {
  family: KeyFamily;
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512';
}

export const SIGNING_ALGORITHMS: Record<string, SigningSpec> = {
  SHA256WITHECDSA: { family: 'EC', hash: 'SHA-256' },
  SHA384WITHECDSA: { family: 'EC', hash: 'SHA-384' },
  SHA512WITHECDSA: { family: 'EC', hash: 'SHA-512' },
  SHA256WITHRSA: { family: 'RSA', hash: 'SHA-256' },
  SHA384WITHRSA: { family: 'RSA', hash: 'SHA-384' },
  SHA512WITHRSA: { family: 'RSA', hash: 'SHA-512' },
};

export function keySpec(path: string, value: unknown): KeySpec {
  const spec = typeof value === 'string' ? KEY_ALGORITHMS[value] : undefined;
  if (!spec) {
    throw validation(path, value, `Member must satisfy enum value set: [${Object.keys(KEY_ALGORITHMS).join(', ')}]`);
  }
  return spec;
}

export function signingSpec(path: string, value: unknown): SigningSpec {
  const spec = typeof value === 'string' ? SIGNING_ALGORITHMS[value] : undefined;
  if (!spec) {
    throw validation(path, value, `Member must satisfy enum value set: [${Object.keys(SIGNING_ALGORITHMS).join(', ')}]`);
  }
  return spec;
}

/**
 * The family of the signing algorithm must match the CA key's (IssueCertificate docs:
 * "The specified signing algorithm family (RSA or ECDSA) must match the algorithm family
 * of the CA's secret key."). AWS answers a mismatch with InvalidArgsException.
 */
export function checkSigningMatchesKey(signingAlgorithm: string, keyAlgorithm: string): SigningSpec {
  const signing = signingSpec('signingAlgorithm', signingAlgorithm);
  const key = KEY_ALGORITHMS[keyAlgorithm];
  if (key && key.family !== signing.family) {
    const valid = Object.entries(SIGNING_ALGORITHMS)
      .filter(([, s]) => s.family === key.family)
      .map(([name]) => name);
    throw invalidArgs(
      `Signing algorithm ${signingAlgorithm} cannot be used with key type ${keyAlgorithm}. Valid signing algorithms are: ${valid.join(', ')}.`,
    );
  }
  return signing;
}

export interface CaKeys {
  family: KeyFamily;
  publicKey: CryptoKey;
  /** PKCS#8, so the key can be imported with the hash of each signing algorithm. */
  pkcs8: ArrayBuffer;
  generate: RsaHashedKeyGenParams | EcKeyGenParams;
}

export async function generateCaKeys(spec: KeySpec): Promise<CaKeys> {
  const pair = await subtle.generateKey(spec.generate, true, ['sign', 'verify']);
  return {
    family: spec.family,
    publicKey: pair.publicKey,
    pkcs8: await subtle.exportKey('pkcs8', pair.privateKey),
    generate: spec.generate,
  };
}

/** The WebCrypto key and algorithm that sign with `hash` (RSA keys carry their hash). */
export async function signer(keys: CaKeys, hash: SigningSpec['hash']): Promise<{ key: CryptoKey; algorithm: Algorithm | EcdsaParams }> {
  if (keys.family === 'RSA') {
    const key = await subtle.importKey('pkcs8', keys.pkcs8, { name: 'RSASSA-PKCS1-v1_5', hash }, false, ['sign']);
    return { key, algorithm: { name: 'RSASSA-PKCS1-v1_5' } };
  }
  const { namedCurve } = keys.generate as EcKeyGenParams;
  const key = await subtle.importKey('pkcs8', keys.pkcs8, { name: 'ECDSA', namedCurve }, false, ['sign']);
  return { key, algorithm: { name: 'ECDSA', hash } as EcdsaParams };
}

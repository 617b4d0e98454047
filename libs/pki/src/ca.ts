import { generateKeyPair, generateKeyPairSync } from 'node:crypto';
import { promisify } from 'node:util';
import type { KeyObject } from 'node:crypto';
import { bitString, boolean, octetString, seq } from './der.js';
import { signatureAlgorithmFor, toSpkiDer } from './keys.js';
import type { KeyType } from './keys.js';
import { derToPem } from './pem.js';
import { OID, extension, keyIdentifier, nameDer, randomSerial, signCertificate, tbsCertificate, uriGeneralNames } from './x509.js';

export interface GenerateCaOptions {
  commonName: string;
  keyType: KeyType;
  validitySeconds: number;
  uriSans?: string[];
  /** Defaults to now minus one minute, so clocks a little behind still accept it. */
  notBefore?: Date;
}

export interface CaMaterial {
  certPem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

// keyCertSign (bit 5) and cRLSign (bit 6) -> 0b00000110, 1 unused bit.
const CA_KEY_USAGE = extension(OID.keyUsage, true, bitString(Uint8Array.of(0x06), 1));
const CA_BASIC_CONSTRAINTS = extension(OID.basicConstraints, true, seq(boolean(true)));

function checkOptions(options: GenerateCaOptions): void {
  if (!(options.validitySeconds > 0)) throw new Error('validitySeconds must be positive');
  const { keyType } = options;
  if (keyType !== 'ecdsa-p256' && (!Number.isInteger(keyType.rsaBits) || keyType.rsaBits < 2048 || keyType.rsaBits > 16384)) {
    throw new Error(`RSA CA keys need at least 2048 bits (and at most 16384), got ${keyType.rsaBits}`);
  }
}

/** A self-signed root: CA:true, keyCertSign and cRLSign, subject key id, optional URI SANs. */
export function generateCa(options: GenerateCaOptions): CaMaterial {
  checkOptions(options);
  const key =
    options.keyType === 'ecdsa-p256'
      ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }).privateKey
      : generateKeyPairSync('rsa', { modulusLength: options.keyType.rsaBits }).privateKey;
  return selfSign(key, options);
}

const generateKeyPairAsync = promisify(generateKeyPair);

/** generateCa with the key generated off the event loop (an RSA-4096 key takes seconds). */
export async function generateCaAsync(options: GenerateCaOptions): Promise<CaMaterial> {
  checkOptions(options);
  const { privateKey } =
    options.keyType === 'ecdsa-p256'
      ? await generateKeyPairAsync('ec', { namedCurve: 'prime256v1' })
      : await generateKeyPairAsync('rsa', { modulusLength: options.keyType.rsaBits });
  return selfSign(privateKey, options);
}

function selfSign(key: KeyObject, options: GenerateCaOptions): CaMaterial {
  const spkiDer = toSpkiDer(key);
  const name = nameDer(options.commonName);
  const start = options.notBefore?.getTime() ?? Date.now();
  const notBefore = options.notBefore ?? new Date(start - 60_000);
  const extensions = [CA_BASIC_CONSTRAINTS, CA_KEY_USAGE, extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spkiDer)))];
  if (options.uriSans && options.uriSans.length > 0) {
    extensions.push(extension(OID.subjectAltName, false, uriGeneralNames(options.uriSans)));
  }
  const algorithm = signatureAlgorithmFor(key);
  const tbs = tbsCertificate({
    serial: randomSerial(),
    signatureAlgorithm: algorithm,
    issuerDer: name,
    subjectDer: name,
    notBefore,
    notAfter: new Date(start + options.validitySeconds * 1000),
    spkiDer,
    extensions,
  });
  return {
    certPem: derToPem(signCertificate(tbs, algorithm, key), 'CERTIFICATE'),
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

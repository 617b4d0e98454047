export { generateCa, generateCaAsync } from './ca.js';
export type { CaMaterial, GenerateCaOptions } from './ca.js';
export { createCsr, parseCsr } from './csr.js';
export type { CreateCsrOptions, ParsedCsr } from './csr.js';
export { createLocalIssuer, issueLeafSync } from './issuer.js';
export type { CaKeyMaterial, IssuedLeaf, LeafIssuer, LeafJob } from './issuer.js';
export { generateP256Key, signatureAlgorithmFor, toSpkiDer } from './keys.js';
export type { KeyType, LeafKey } from './keys.js';
export { createLeafSigner } from './leaf-signer.js';
export type { LeafSigner, LeafSignRequest } from './leaf-signer.js';
export {
  bundleFingerprints,
  certificateChainFromPem,
  certificateFingerprint,
  isIssuedBy,
  parseCertificate,
  verifyKeyMatchesCert,
} from './parse.js';
export type { ParsedCertificate } from './parse.js';
export { derToPem, pemBlocks, pemToDer } from './pem.js';
export type { PemBlock } from './pem.js';
export { createIssuerPool } from './pool.js';
export type { IssuerPool, IssuerPoolOptions } from './pool.js';
export { randomSerial } from './x509.js';
export { readName, summarizeCertificateDer, summarizeChain } from './summary.js';
export type { CertificateSummary } from './summary.js';

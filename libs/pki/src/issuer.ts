// One leaf issuance, key generation included: the unit of work that both the in-thread issuer and
// the worker pool run, so the two cannot drift apart.
import { parseCsr } from './csr.js';
import { generateP256Key } from './keys.js';
import { createLeafSigner } from './leaf-signer.js';
import type { LeafSigner } from './leaf-signer.js';
import { derToPem } from './pem.js';

export interface LeafJob {
  uriSans: string[];
  commonName?: string;
  notBefore: Date;
  notAfter: Date;
  /**
   * PEM CSR: its signature is verified and only its public key is used; the SANs and name it
   * asks for are ignored (they come from the job). Without it an ECDSA P-256 key is generated.
   */
  csrPem?: string;
}

export interface IssuedLeaf {
  certPem: string;
  /** PKCS#8 PEM, when the key was generated here. */
  keyPem?: string;
  /** Lower-case hex. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface LeafIssuer {
  readonly caCertPem: string;
  issue(job: LeafJob): Promise<IssuedLeaf>;
  /** Releases what the issuer holds (in a pool: the CA key in every worker). */
  close(): Promise<void>;
}

export interface CaKeyMaterial {
  caCertPem: string;
  caKeyPem: string;
}

const wholeSeconds = (d: Date): Date => new Date(Math.floor(d.getTime() / 1000) * 1000);

export function issueLeafSync(signer: LeafSigner, job: LeafJob): IssuedLeaf {
  // Certificates carry whole seconds; report exactly what the certificate says.
  const notBefore = wholeSeconds(job.notBefore);
  const notAfter = wholeSeconds(job.notAfter);
  let spkiDer: Buffer;
  let keyPem: string | undefined;
  if (job.csrPem !== undefined) {
    spkiDer = parseCsr(job.csrPem).spkiDer;
  } else {
    const key = generateP256Key();
    spkiDer = key.spkiDer;
    keyPem = key.keyPem;
  }
  const { der, serial } = signer.signDer({
    publicKey: spkiDer,
    uriSans: job.uriSans,
    ...(job.commonName !== undefined ? { commonName: job.commonName } : {}),
    notBefore,
    notAfter,
  });
  return {
    certPem: derToPem(der, 'CERTIFICATE'),
    ...(keyPem !== undefined ? { keyPem } : {}),
    serial,
    notBefore,
    notAfter,
  };
}

/** Issues on the calling thread. */
export function createLocalIssuer(material: CaKeyMaterial): LeafIssuer {
  const signer = createLeafSigner(material);
  return {
    caCertPem: signer.caCertPem,
    issue: async (job) => issueLeafSync(signer, job),
    close: async () => {},
  };
}

import type { x509 } from './x509.js';
import type { CaKeys } from './keys.js';

export type CaStatus = 'CREATING' | 'PENDING_CERTIFICATE' | 'ACTIVE' | 'DELETED' | 'DISABLED' | 'EXPIRED' | 'FAILED';

export interface CaRecord {
  arn: string;
  type: 'ROOT' | 'SUBORDINATE';
  status: CaStatus;
  keyAlgorithm: string;
  signingAlgorithm: string;
  subject: Record<string, unknown>;
  keys: CaKeys;
  csrPem: string;
  certificate?: x509.X509Certificate;
  /** PEM of the chain above the CA certificate (not including it), as imported. */
  chainPem?: string | undefined;
  createdAt: number;
  lastStateChangeAt?: number;
}

export interface IssuedRecord {
  arn: string;
  caArn: string;
  pem: string;
  chainPem: string;
  /** GetCertificate answers RequestInProgressException until this time (ms). */
  readyAt: number;
}

export interface ServerState {
  region: string;
  account: string;
  cas: Map<string, CaRecord>;
  certs: Map<string, IssuedRecord>;
  /** `${caArn}\n${token}` → { certificate ARN, expiry ms }: IssueCertificate tokens last five minutes. */
  idempotency: Map<string, { arn: string; until: number }>;
  issueDelayMs: number;
  now: () => number;
}

export const epochSeconds = (ms: number): number => ms / 1000;

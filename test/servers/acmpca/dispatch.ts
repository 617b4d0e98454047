import {
  createCertificateAuthority,
  describeCertificateAuthority,
  getCertificateAuthorityCertificate,
  getCertificateAuthorityCsr,
  importCertificateAuthorityCertificate,
  updateCertificateAuthority,
} from './ca-ops.js';
import { AwsError } from './errors.js';
import { getCertificate, issueCertificate } from './issue.js';
import type { ServerState } from './state.js';

type Input = Record<string, unknown>;
type Operation = (state: ServerState, input: Input) => Input | Promise<Input>;

const OPERATIONS: Record<string, Operation> = {
  CreateCertificateAuthority: createCertificateAuthority,
  GetCertificateAuthorityCsr: getCertificateAuthorityCsr,
  ImportCertificateAuthorityCertificate: importCertificateAuthorityCertificate,
  DescribeCertificateAuthority: describeCertificateAuthority,
  UpdateCertificateAuthority: updateCertificateAuthority,
  GetCertificateAuthorityCertificate: getCertificateAuthorityCertificate,
  IssueCertificate: issueCertificate,
  GetCertificate: getCertificate,
};

export const TARGET_PREFIX = 'ACMPrivateCA.';

/** The operation named by `X-Amz-Target: ACMPrivateCA.<Operation>`. */
export function operationFor(target: string | undefined): { name: string; run: Operation } {
  const name = target?.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  const run = name ? OPERATIONS[name] : undefined;
  if (!name || !run) {
    throw new AwsError('UnknownOperationException', `Operation ${target ?? '(no X-Amz-Target)'} is not supported by this test server.`);
  }
  return { name, run };
}

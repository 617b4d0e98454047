// What IssueCertificate is asked: the template that carries the URI SANs, the signing algorithm
// the CA's key can make, and a validity that ACM PCA can express to the second.
import type { IssueCertificateCommandInput, SigningAlgorithm } from '@aws-sdk/client-acm-pca';

/**
 * EndEntityCertificate_APIPassthrough/V1: the SANs (and Subject, when a commonName template is
 * set) come from the API call, and win over the CSR's. The base EndEntityCertificate/V1 also
 * copies SANs, but from the CSR, which for a dataplane's own CSR the dataplane decides; with API
 * passthrough the control plane decides the identity either way. Key usage, extended key usage
 * (serverAuth + clientAuth) and CA:FALSE stay the template's.
 */
export const TEMPLATE = 'EndEntityCertificate_APIPassthrough/V1';

export function templateArn(partition: string, template = TEMPLATE): string {
  return `arn:${partition}:acm-pca:::template/${template}`;
}

// The digest is the one the key's size calls for (as AWS's console pairs them).
const SIGNING: Record<string, string> = {
  EC_prime256v1: 'SHA256WITHECDSA',
  EC_secp384r1: 'SHA384WITHECDSA',
  EC_secp521r1: 'SHA512WITHECDSA',
  RSA_2048: 'SHA256WITHRSA',
  RSA_3072: 'SHA256WITHRSA',
  RSA_4096: 'SHA256WITHRSA',
  SM2: 'SM3WITHSM2',
};

export function signingAlgorithmFor(keyAlgorithm: string): SigningAlgorithm | undefined {
  return SIGNING[keyAlgorithm] as SigningAlgorithm | undefined;
}

export function buildIssueInput(args: {
  caArn: string;
  partition: string;
  csrPem: string;
  uriSans: string[];
  commonName?: string;
  signingAlgorithm: SigningAlgorithm;
  notAfter: Date;
  idempotencyToken: string;
  template?: string;
}): IssueCertificateCommandInput {
  return {
    CertificateAuthorityArn: args.caArn,
    Csr: Buffer.from(args.csrPem),
    SigningAlgorithm: args.signingAlgorithm,
    TemplateArn: templateArn(args.partition, args.template),
    // There is no HOURS type and DAYS starts at one day: ABSOLUTE (epoch seconds) says any lifetime.
    Validity: { Type: 'ABSOLUTE', Value: Math.floor(args.notAfter.getTime() / 1000) },
    ApiPassthrough: {
      Extensions: { SubjectAlternativeNames: args.uriSans.map((uri) => ({ UniformResourceIdentifier: uri })) },
      ...(args.commonName !== undefined ? { Subject: { CommonName: args.commonName } } : {}),
    },
    IdempotencyToken: args.idempotencyToken,
  };
}

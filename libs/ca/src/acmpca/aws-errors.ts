// Turns what the SDK throws into a CaError an operator can act on: the backend, the CA, what AWS
// answered (its error code and message) and what to check. Secrets never reach these messages:
// AWS's own messages do not carry them and the credentials are never formatted.
import { DataSourceError } from '../datasource.js';
import { CaError } from '../errors.js';

export type FailureKind = 'throttled' | 'server' | 'network' | 'timeout' | 'tls' | 'in-progress' | 'refused';

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
]);
const THROTTLE_NAMES = new Set(['ThrottlingException', 'Throttling', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown']);
const CREDENTIAL_NAMES = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'ExpiredTokenException',
  'MissingAuthenticationTokenException',
  'IncompleteSignatureException',
]);

interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $fault?: 'client' | 'server';
  $metadata?: { httpStatusCode?: number };
  cause?: unknown;
}

const asSdk = (err: unknown): SdkError => (typeof err === 'object' && err !== null ? err : { message: String(err) });

/** The socket-level code (ECONNREFUSED, a TLS verification code), looking through wrapped causes. */
export function socketCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = asSdk(e).cause, depth++) {
    const code = asSdk(e).code;
    if (code && (NETWORK_CODES.has(code) || TLS_CODES.has(code))) return code;
  }
  return undefined;
}

export function classify(err: unknown): FailureKind {
  const e = asSdk(err);
  if (e.name === 'RequestInProgressException') return 'in-progress';
  if (e.name && THROTTLE_NAMES.has(e.name)) return 'throttled';
  const code = socketCode(err);
  if (code && TLS_CODES.has(code)) return 'tls';
  if (code) return 'network';
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timeout';
  const status = e.$metadata?.httpStatusCode;
  if ((status !== undefined && status >= 500) || e.$fault === 'server') return 'server';
  return 'refused';
}

export interface FailureContext {
  backend: string;
  arn: string;
  region: string;
  endpoint: string;
  /** Where the credentials come from, for the bad-credentials advice. */
  credentials: 'conf' | 'chain';
  operation: string;
  attempts?: number;
  /** The CA's status when AWS said it is in the wrong state (from DescribeCertificateAuthority). */
  caStatus?: string;
}

/** AWS's error code and message, as "(Code: message)". */
export function awsSays(err: unknown): string {
  const e = asSdk(err);
  const code = socketCode(err) ?? e.name ?? 'Error';
  const message = (e.message ?? '').trim();
  return message && message !== code ? `(${code}: ${message})` : `(${code})`;
}

export function toCaError(err: unknown, ctx: FailureContext): CaError {
  if (err instanceof CaError) return err;
  if (err instanceof DataSourceError) return new CaError(`acmpca backend "${ctx.backend}": ${err.message}`, false, { cause: err });
  const e = asSdk(err);
  const prefix = `acmpca backend "${ctx.backend}"`;
  const says = awsSays(err);
  const make = (text: string, retryable: boolean): CaError => new CaError(`${prefix}: ${text}`, retryable, { cause: err });
  const credentialAdvice =
    ctx.credentials === 'conf'
      ? 'check conf.auth.awsCredentials.accessKey and accessKeySecret'
      : 'check the default credential chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws files, the instance or IRSA role), or set conf.auth.awsCredentials';

  switch (classify(err)) {
    case 'throttled':
      return make(
        `ACM PCA kept throttling ${ctx.operation} after ${ctx.attempts ?? 1} attempts ${says}; issuance is retried later — lower the issuance rate or raise the ACM PCA request quota`,
        true,
      );
    case 'server':
      return make(
        `ACM PCA at ${ctx.endpoint} failed ${ctx.operation} with HTTP ${e.$metadata?.httpStatusCode ?? '5xx'} after ${ctx.attempts ?? 1} attempts ${says}; retried later`,
        true,
      );
    case 'tls':
      return make(
        `the TLS certificate of the ACM PCA endpoint ${ctx.endpoint} did not verify ${says}; conf.caCert must hold the CA that signed that endpoint's certificate`,
        true,
      );
    case 'network':
      return make(
        `cannot reach ACM PCA at ${ctx.endpoint} ${says} after ${ctx.attempts ?? 1} attempts; check the endpoint, DNS and network path from this control plane`,
        true,
      );
    case 'timeout':
      return make(
        `ACM PCA at ${ctx.endpoint} did not answer ${ctx.operation} in time ${says}; check the endpoint and network path, or raise dpCert.requestTimeout`,
        true,
      );
    case 'in-progress':
      return make(
        `certificate from ${ctx.arn} was still being issued when the request timed out ${says}; raise dpCert.requestTimeout or retry`,
        true,
      );
    case 'refused':
      break;
  }
  const name = e.name ?? '';
  if (name === 'ResourceNotFoundException') {
    return make(
      `ACM PCA in region ${ctx.region} has no certificate authority ${ctx.arn} ${says}; check conf.arn (account, region and id) and that the credentials' account can see it`,
      false,
    );
  }
  if (name === 'InvalidArnException') return make(`conf.arn "${ctx.arn}" is not a valid certificate authority ARN ${says}`, false);
  if (name === 'AccessDeniedException') {
    return make(
      `AWS denied ${ctx.operation} on ${ctx.arn} ${says}; the credentials' IAM policy must allow acm-pca:IssueCertificate, acm-pca:GetCertificate, acm-pca:GetCertificateAuthorityCertificate and acm-pca:DescribeCertificateAuthority on this CA`,
      false,
    );
  }
  if (name === 'InvalidStateException') {
    const status = ctx.caStatus ? `is ${ctx.caStatus}, not ACTIVE` : 'is not ACTIVE';
    const advice =
      ctx.caStatus === 'PENDING_CERTIFICATE'
        ? 'import its CA certificate'
        : ctx.caStatus === 'DISABLED'
          ? 'enable it (aws acm-pca update-certificate-authority --status ACTIVE)'
          : 'make it ACTIVE';
    // A CA's state is changed on AWS's side, like a sealed Vault: retried with backoff, so an
    // enabled CA is used again without anyone touching the Mesh.
    return make(`certificate authority ${ctx.arn} ${status} ${says}; ${advice} or point conf.arn at an active CA`, true);
  }
  if (CREDENTIAL_NAMES.has(name)) return make(`AWS did not accept the credentials ${says}; ${credentialAdvice}`, false);
  if (name === 'CredentialsProviderError') return make(`no AWS credentials were found ${says}; ${credentialAdvice}`, false);
  return make(`ACM PCA refused ${ctx.operation} on ${ctx.arn} ${says}`, false);
}

import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AwsError } from './errors.js';

export interface AuthConfig {
  /** The one access key id the server accepts. */
  accessKeyId: string;
  /** When set, the SigV4 signature is checked with this secret; otherwise only the key id is. */
  secretAccessKey?: string | undefined;
  /** Known key ids that are refused with AccessDeniedException (a user without acm-pca permissions). */
  deniedAccessKeyIds?: string[] | undefined;
}

interface ParsedAuthorization {
  accessKeyId: string;
  scope: string;
  signedHeaders: string[];
  signature: string;
}

const AUTH_RE = /^AWS4-HMAC-SHA256\s+Credential=([^/,\s]+)\/([^,\s]+),\s*SignedHeaders=([^,\s]+),\s*Signature=([0-9a-f]+)$/;

function parseAuthorization(header: string): ParsedAuthorization | undefined {
  const m = AUTH_RE.exec(header.trim());
  if (!m) return undefined;
  return { accessKeyId: m[1]!, scope: m[2]!, signedHeaders: m[3]!.split(';'), signature: m[4]! };
}

const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

function headerValue(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  const joined = Array.isArray(v) ? v.join(',') : (v ?? '');
  return joined.trim().replace(/\s+/g, ' ');
}

// Recomputes the Signature Version 4 signature of a POST / request (what the AWS JSON
// protocol sends) from the configured secret.
function expectedSignature(auth: ParsedAuthorization, headers: IncomingHttpHeaders, path: string, body: Buffer, secret: string): string {
  const canonicalHeaders = auth.signedHeaders.map((h) => `${h}:${headerValue(headers, h)}\n`).join('');
  const [pathPart, query = ''] = path.split('?');
  const canonicalQuery = query.split('&').filter(Boolean).sort().join('&');
  const canonicalRequest = ['POST', pathPart, canonicalQuery, canonicalHeaders, auth.signedHeaders.join(';'), sha256Hex(body)].join('\n');
  const amzDate = headerValue(headers, 'x-amz-date');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, auth.scope, sha256Hex(canonicalRequest)].join('\n');
  const [date = '', region = '', service = ''] = auth.scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), 'aws4_request');
  return createHmac('sha256', key).update(stringToSign).digest('hex');
}

/** Throws the error AWS answers for a missing, unknown, refused or badly signed request. */
export function authenticate(
  config: AuthConfig,
  headers: IncomingHttpHeaders,
  path: string,
  body: Buffer,
  operation: string,
  resourceArn: string | undefined,
): void {
  const header = headers.authorization;
  if (!header) throw new AwsError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  const auth = parseAuthorization(header);
  if (!auth) throw new AwsError('IncompleteSignatureException', 'Authorization header is not a valid AWS4-HMAC-SHA256 signature.');
  if (config.deniedAccessKeyIds?.includes(auth.accessKeyId)) {
    throw new AwsError(
      'AccessDeniedException',
      `User: arn:aws:iam::123456789012:user/test is not authorized to perform: acm-pca:${operation} on resource: ${resourceArn ?? '*'}`,
    );
  }
  if (auth.accessKeyId !== config.accessKeyId) {
    throw new AwsError('UnrecognizedClientException', 'The security token included in the request is invalid.');
  }
  if (config.secretAccessKey === undefined) return;
  const expected = Buffer.from(expectedSignature(auth, headers, path, body, config.secretAccessKey));
  const got = Buffer.from(auth.signature);
  if (expected.length !== got.length || !timingSafeEqual(expected, got)) {
    throw new AwsError(
      'InvalidSignatureException',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
}

// The small parts of the acmpca backend: the in-flight limiter, full-jitter backoff, region
// choice, signing algorithms and the classification of what the SDK throws.
import { describe, expect, it } from 'vitest';
import { classify, toCaError } from '../src/acmpca/aws-errors.js';
import { endpointLabel, parseCaArn, resolveRegion } from '../src/acmpca/config.js';
import { createLimiter } from '../src/limiter.js';
import { backoffDelayMs } from '../src/acmpca/retry.js';
import { buildIssueInput, signingAlgorithmFor } from '../src/acmpca/request.js';

describe('limiter', () => {
  it('runs at most max at once, in arrival order, and frees slots after failures', async () => {
    const limiter = createLimiter(2);
    let active = 0;
    let peak = 0;
    const order: number[] = [];
    const releases: Array<() => void> = [];
    const task = (i: number, fail = false) =>
      limiter.run(async () => {
        active += 1;
        peak = Math.max(peak, active);
        order.push(i);
        await new Promise<void>((r) => releases.push(r));
        active -= 1;
        if (fail) throw new Error('boom');
        return i;
      });
    const settled = Promise.allSettled([task(0, true), task(1), task(2), task(3)]);
    await new Promise((r) => setImmediate(r));
    expect(limiter.load().running).toBe(2);
    expect(limiter.load().queued).toBe(2);
    while (releases.length > 0 || order.length < 4) {
      releases.shift()?.();
      await new Promise((r) => setImmediate(r));
    }
    const results = await settled;
    expect(results.map((r) => r.status)).toEqual(['rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(order).toEqual([0, 1, 2, 3]);
    expect(peak).toBe(2);
    expect(limiter.load().running).toBe(0);
  });

  it('refuses a bound below one', () => {
    expect(() => createLimiter(0)).toThrow('maxInFlight must be a whole number of at least 1, got 0');
  });
});

describe('backoff', () => {
  it('draws from [0, min(cap, base * 2^attempt))', () => {
    expect(backoffDelayMs(0, 100, 5000, () => 0.999)).toBe(99);
    expect(backoffDelayMs(3, 100, 5000, () => 0.5)).toBe(400);
    expect(backoffDelayMs(10, 100, 5000, () => 0.999)).toBe(4995);
    expect(backoffDelayMs(4, 100, 5000, () => 0)).toBe(0);
  });
});

describe('region and endpoint', () => {
  const arn = (region: string) => parseCaArn(`arn:aws:acm-pca:${region}:123456789012:certificate-authority/abc`)!;

  it('takes the region from the ARN, where the CA lives', () => {
    expect(resolveRegion(arn('eu-west-1'), { AWS_REGION: 'us-east-1' })).toBe('eu-west-1');
  });

  it('falls back to AWS_REGION, then AWS_DEFAULT_REGION, for ARNs without a real region', () => {
    expect(resolveRegion(arn('region'), { AWS_REGION: 'ap-south-1', AWS_DEFAULT_REGION: 'us-west-2' })).toBe('ap-south-1');
    expect(resolveRegion(arn('region'), { AWS_DEFAULT_REGION: 'us-west-2' })).toBe('us-west-2');
  });

  it('parses the partition of GovCloud and China ARNs', () => {
    expect(parseCaArn('arn:aws-us-gov:acm-pca:us-gov-west-1:1:certificate-authority/x')).toMatchObject({
      partition: 'aws-us-gov',
      region: 'us-gov-west-1',
    });
    expect(parseCaArn('arn:aws:acm:us-east-1:1:certificate/x')).toBeUndefined();
  });

  it('names the endpoint in force in messages', () => {
    expect(endpointLabel(undefined, 'eu-west-1', {})).toBe('https://acm-pca.eu-west-1.amazonaws.com');
    expect(endpointLabel(undefined, 'eu-west-1', { AWS_ENDPOINT_URL_ACM_PCA: 'https://pca.internal' })).toBe('https://pca.internal');
    expect(endpointLabel('http://127.0.0.1:1', 'eu-west-1', { AWS_ENDPOINT_URL_ACM_PCA: 'https://pca.internal' })).toBe(
      'http://127.0.0.1:1',
    );
  });
});

describe('IssueCertificate input', () => {
  it('matches the signing algorithm to the CA key', () => {
    expect(signingAlgorithmFor('EC_prime256v1')).toBe('SHA256WITHECDSA');
    expect(signingAlgorithmFor('EC_secp384r1')).toBe('SHA384WITHECDSA');
    expect(signingAlgorithmFor('RSA_4096')).toBe('SHA256WITHRSA');
    expect(signingAlgorithmFor('ED25519')).toBeUndefined();
  });

  it('asks for API-passthrough URI SANs and an absolute end, to the second', () => {
    const input = buildIssueInput({
      caArn: 'arn:aws-cn:acm-pca:cn-north-1:1:certificate-authority/x',
      partition: 'aws-cn',
      csrPem: 'CSR',
      uriSans: ['spiffe://m/a', 'kuma://t/v'],
      commonName: 'a.mesh',
      signingAlgorithm: 'SHA256WITHECDSA',
      notAfter: new Date('2030-01-01T00:00:00.900Z'),
      idempotencyToken: 't',
    });
    expect(input.TemplateArn).toBe('arn:aws-cn:acm-pca:::template/EndEntityCertificate_APIPassthrough/V1');
    expect(input.Validity).toEqual({ Type: 'ABSOLUTE', Value: Date.UTC(2030, 0, 1) / 1000 });
    expect(input.ApiPassthrough).toEqual({
      Extensions: { SubjectAlternativeNames: [{ UniformResourceIdentifier: 'spiffe://m/a' }, { UniformResourceIdentifier: 'kuma://t/v' }] },
      Subject: { CommonName: 'a.mesh' },
    });
  });
});

describe('what the SDK throws', () => {
  const aws = (name: string, status: number, message = 'm') =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
  const ctx = {
    backend: 'b',
    arn: 'arn',
    region: 'r',
    endpoint: 'https://e',
    credentials: 'conf' as const,
    operation: 'IssueCertificate',
    attempts: 3,
  };

  it('classifies throttling, 5xx, sockets, TLS and refusals', () => {
    expect(classify(aws('ThrottlingException', 400))).toBe('throttled');
    expect(classify(aws('InternalFailure', 500))).toBe('server');
    expect(classify(aws('ServiceUnavailable', 503))).toBe('server');
    expect(classify(Object.assign(new Error('x'), { code: 'ECONNRESET' }))).toBe('network');
    expect(classify(Object.assign(new Error('x'), { cause: Object.assign(new Error('y'), { code: 'ENOTFOUND' }) }))).toBe('network');
    expect(classify(Object.assign(new Error('x'), { code: 'SELF_SIGNED_CERT_IN_CHAIN' }))).toBe('tls');
    expect(classify(Object.assign(new Error('aborted'), { name: 'AbortError' }))).toBe('timeout');
    expect(classify(aws('RequestInProgressException', 400))).toBe('in-progress');
    expect(classify(aws('ValidationException', 400))).toBe('refused');
  });

  it('says what a 5xx was, retryably', () => {
    const err = toCaError(aws('InternalFailure', 500, 'Internal error'), ctx);
    expect(err.retryable).toBe(true);
    expect(err.message).toBe(
      'acmpca backend "b": ACM PCA at https://e failed IssueCertificate with HTTP 500 after 3 attempts (InternalFailure: Internal error); retried later',
    );
  });

  it('passes other refusals on with AWS code and message, not retryable', () => {
    const err = toCaError(aws('MalformedCSRException', 400, 'bad csr'), ctx);
    expect(err.retryable).toBe(false);
    expect(err.message).toBe('acmpca backend "b": ACM PCA refused IssueCertificate on arn (MalformedCSRException: bad csr)');
  });
});

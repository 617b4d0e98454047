// The ACM Private CA backend: IssueCertificate with API-passthrough SANs, GetCertificate until the
// certificate is ready, every request bounded in flight and retried with backoff and jitter.
import { randomUUID } from 'node:crypto';
import {
  DescribeCertificateAuthorityCommand,
  GetCertificateAuthorityCertificateCommand,
  GetCertificateCommand,
  IssueCertificateCommand,
  type CertificateAuthority,
  type SigningAlgorithm,
} from '@aws-sdk/client-acm-pca';
import { parseDuration, type AcmpcaConf } from '@meshca/api';
import { certificateChainFromPem, createCsr, generateP256Key, parseCertificate, parseCsr } from '@meshca/pki';
import type { Logger } from '@meshca/common';
import type { BackendContext, BackendHealth, CaBackend, IssuedCertificate, IssueRequest } from '../backend.js';
import { CaError } from '../errors.js';
import { identityUriSans, renderCommonName } from '../identity.js';
import { classify, toCaError, type FailureContext } from './aws-errors.js';
import { createClient, endpointLabel } from './config.js';
import { createLimiter } from '../limiter.js';
import { buildIssueInput, signingAlgorithmFor, TEMPLATE } from './request.js';
import { backoffDelayMs, sleep } from './retry.js';
import { checkIssued } from './verify.js';

export interface AcmPcaOptions {
  /** Requests to ACM PCA in flight at once per backend; the rest queue. Default 4 (env MESHCA_ACMPCA_MAX_IN_FLIGHT). */
  maxInFlight?: number;
  /** Endpoint override; default env MESHCA_ACMPCA_ENDPOINT, else the SDK's (which honours AWS_ENDPOINT_URL_ACM_PCA). */
  endpoint?: string;
  /** Attempts per request on throttling, 5xx and network errors. Default 5. */
  maxAttempts?: number;
  /** Backoff base and cap. Defaults 100 ms and 5 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Bound on one issuance, polling included. Default dpCert.requestTimeout, else 30 s. */
  requestTimeoutMs?: number;
  /** Bound on fetching the roots and on health checks. Default rootChain.requestTimeout, else 10 s. */
  rootsTimeoutMs?: number;
  /** First wait before GetCertificate is asked again while in progress; doubles up to 2 s. Default 200 ms. */
  pollIntervalMs?: number;
  /** How long fetched trust roots are served before they are fetched again. Default 1 h. */
  rootsRefreshMs?: number;
  connectionTimeoutMs?: number;
  /** Template name (the part after `template/`). Default EndEntityCertificate_APIPassthrough/V1. */
  template?: string;
  log?: Logger;
  /** For tests of the jitter. */
  random?: () => number;
}

const DEFAULT_MAX_IN_FLIGHT = 4;
const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
const DEFAULT_ROOTS_TIMEOUT_MS = 10_000;
const MAX_POLL_INTERVAL_MS = 2_000;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new CaError(`${name} must be a positive integer, got "${raw}"`, false);
  return n;
}

function durationMs(text: string | undefined, field: string, backend: string): number | undefined {
  if (!text) return undefined;
  try {
    return parseDuration(text) * 1000;
  } catch (err) {
    throw new CaError(`acmpca backend "${backend}": ${field} ${(err as Error).message}`, false);
  }
}

interface CaInfo {
  signingAlgorithm: SigningAlgorithm;
  notAfter?: Date;
}

export async function openAcmPcaBackend(ctx: BackendContext, options: AcmPcaOptions = {}): Promise<CaBackend> {
  const name = ctx.backend.name;
  const conf = ctx.backend.conf as Partial<AcmpcaConf>;
  const maxInFlight = options.maxInFlight ?? envInt('MESHCA_ACMPCA_MAX_IN_FLIGHT') ?? DEFAULT_MAX_IN_FLIGHT;
  const limiter = createLimiter(maxInFlight);
  const maxAttempts = options.maxAttempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 100;
  const maxDelayMs = options.maxDelayMs ?? 5_000;
  const random = options.random ?? Math.random;
  const requestTimeoutMs =
    options.requestTimeoutMs ?? durationMs(ctx.backend.dpCert?.requestTimeout, 'dpCert.requestTimeout', name) ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const rootsTimeoutMs =
    options.rootsTimeoutMs ??
    durationMs(ctx.backend.rootChain?.requestTimeout, 'rootChain.requestTimeout', name) ??
    DEFAULT_ROOTS_TIMEOUT_MS;
  const template = options.template ?? TEMPLATE;
  const override = options.endpoint ?? (process.env.MESHCA_ACMPCA_ENDPOINT || undefined);
  const log = options.log;

  const settings = await createClient(ctx, {
    ...(override ? { endpoint: override } : {}),
    maxSockets: maxInFlight,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 5_000,
    requestTimeoutMs: Math.max(requestTimeoutMs, rootsTimeoutMs),
  });
  const { client } = settings;
  const caArn = conf.arn as string;
  const failure = (operation: string, attempts?: number, caStatus?: string): FailureContext => ({
    backend: name,
    arn: caArn,
    region: settings.region,
    endpoint: endpointLabel(override, settings.region),
    credentials: settings.credentials,
    operation,
    ...(attempts !== undefined ? { attempts } : {}),
    ...(caStatus !== undefined ? { caStatus } : {}),
  });

  async function describe(deadline: number): Promise<CertificateAuthority> {
    const out = await call(
      'DescribeCertificateAuthority',
      (signal) => client.send(new DescribeCertificateAuthorityCommand({ CertificateAuthorityArn: caArn }), { abortSignal: signal }),
      deadline,
    );
    if (!out.CertificateAuthority)
      throw new CaError(`acmpca backend "${name}": DescribeCertificateAuthority returned no certificate authority for ${caArn}`, true);
    return out.CertificateAuthority;
  }

  /** Why AWS said InvalidState: the CA's status, best effort. */
  async function statusOf(): Promise<string | undefined> {
    try {
      return (await describe(Date.now() + rootsTimeoutMs)).Status;
    } catch {
      return undefined;
    }
  }

  /**
   * One request through the in-flight bound, retried on throttling, 5xx and network errors with
   * full-jitter exponential backoff while the deadline allows. RequestInProgress is the poller's
   * business and comes back as it is; every other failure comes back as a CaError.
   */
  const counts = { retries: 0, backingOff: 0 };
  async function call<T>(operation: string, send: (signal: AbortSignal) => Promise<T>, deadline: number): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw Object.assign(new Error(`no time left before the request deadline`), { name: 'TimeoutError' });
        return await limiter.run(() => send(AbortSignal.timeout(remaining)));
      } catch (err) {
        const kind = classify(err);
        if (kind === 'in-progress') throw err;
        const delay = backoffDelayMs(attempt - 1, baseDelayMs, maxDelayMs, random);
        const again =
          (kind === 'throttled' || kind === 'server' || kind === 'network' || kind === 'timeout') &&
          attempt < maxAttempts &&
          Date.now() + delay < deadline;
        if (!again) {
          const status =
            (err as { name?: string }).name === 'InvalidStateException' && operation !== 'DescribeCertificateAuthority'
              ? await statusOf()
              : undefined;
          throw toCaError(err, failure(operation, attempt, status));
        }
        log?.debug({ mesh: ctx.mesh, backend: name, operation, attempt, kind, delayMs: delay }, 'acmpca request failed, retrying');
        counts.retries += 1;
        counts.backingOff += 1;
        try {
          await sleep(delay);
        } finally {
          counts.backingOff -= 1;
        }
      }
    }
  }

  let info: Promise<CaInfo> | undefined;
  function caInfo(deadline: number): Promise<CaInfo> {
    info ??= (async () => {
      const ca = await describe(deadline);
      if (ca.Status !== 'ACTIVE') {
        throw new CaError(
          `acmpca backend "${name}": certificate authority ${caArn} is ${ca.Status ?? 'in an unknown state'}, not ACTIVE; ${ca.Status === 'PENDING_CERTIFICATE' ? 'import its CA certificate' : 'enable it'} or point conf.arn at an active CA`,
          true,
        );
      }
      const keyAlgorithm = ca.CertificateAuthorityConfiguration?.KeyAlgorithm ?? '';
      const signingAlgorithm = signingAlgorithmFor(keyAlgorithm);
      if (!signingAlgorithm)
        throw new CaError(
          `acmpca backend "${name}": certificate authority ${caArn} has key algorithm "${keyAlgorithm}", which this backend cannot pick a signing algorithm for`,
          false,
        );
      return { signingAlgorithm, ...(ca.NotAfter ? { notAfter: new Date(ca.NotAfter) } : {}) };
    })();
    // A failed look-up is not remembered: the next issuance asks again.
    info.catch(() => {
      info = undefined;
    });
    return info;
  }

  async function poll(certificateArn: string, deadline: number): Promise<{ certificate: string; chain: string }> {
    let wait = options.pollIntervalMs ?? 200;
    for (;;) {
      try {
        const out = await call(
          'GetCertificate',
          (signal) =>
            client.send(new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certificateArn }), {
              abortSignal: signal,
            }),
          deadline,
        );
        if (!out.Certificate)
          throw new CaError(`acmpca backend "${name}": GetCertificate returned no certificate for ${certificateArn}`, true);
        return { certificate: out.Certificate, chain: out.CertificateChain ?? '' };
      } catch (err) {
        if (classify(err) !== 'in-progress') throw err;
        if (Date.now() + wait >= deadline) throw toCaError(err, failure('GetCertificate'));
        await sleep(wait / 2 + random() * (wait / 2));
        wait = Math.min(wait * 2, MAX_POLL_INTERVAL_MS);
      }
    }
  }

  let roots: { pems: string[]; at: number } | undefined;
  let rootsLoading: Promise<string[]> | undefined;
  async function loadRoots(): Promise<string[]> {
    const out = await call(
      'GetCertificateAuthorityCertificate',
      (signal) => client.send(new GetCertificateAuthorityCertificateCommand({ CertificateAuthorityArn: caArn }), { abortSignal: signal }),
      Date.now() + rootsTimeoutMs,
    );
    const pems = certificateChainFromPem(`${out.Certificate ?? ''}\n${out.CertificateChain ?? ''}`);
    if (pems.length === 0)
      throw new CaError(`acmpca backend "${name}": GetCertificateAuthorityCertificate returned no certificate for ${caArn}`, true);
    roots = { pems, at: Date.now() };
    return pems;
  }

  return {
    mesh: ctx.mesh,
    name,
    type: 'acmpca',

    async roots(): Promise<string[]> {
      if (roots && Date.now() - roots.at < (options.rootsRefreshMs ?? 3_600_000)) return roots.pems;
      rootsLoading ??= loadRoots().finally(() => {
        rootsLoading = undefined;
      });
      try {
        return await rootsLoading;
      } catch (err) {
        // Trust already handed out stays valid while ACM PCA is unreachable.
        if (roots) {
          log?.warn(
            { mesh: ctx.mesh, backend: name, err: (err as Error).message },
            'acmpca roots refresh failed; serving the last fetched roots',
          );
          return roots.pems;
        }
        throw err;
      }
    },

    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      if (request.identity.mesh !== ctx.mesh) {
        throw new Error(`acmpca backend "${name}" of mesh "${ctx.mesh}" cannot issue for mesh "${request.identity.mesh}"`);
      }
      if (!(request.ttlSeconds > 0)) throw new Error(`ttlSeconds must be positive, got ${request.ttlSeconds}`);
      const deadline = Date.now() + requestTimeoutMs;
      const uriSans = identityUriSans(request.identity);
      const commonName = conf.commonName ? renderCommonName(conf.commonName, request.identity) : undefined;
      const ca = await caInfo(deadline);

      const now = Date.now();
      const notAfter = new Date(Math.min(now + request.ttlSeconds * 1000, ca.notAfter?.getTime() ?? Infinity));
      if (notAfter.getTime() <= now) {
        throw new CaError(
          `acmpca backend "${name}": the certificate of CA ${caArn} expired at ${notAfter.toISOString()}; rotate to a new backend`,
          false,
        );
      }
      let csrPem: string;
      let spkiDer: Buffer;
      let keyPem: string | undefined;
      if (request.csrPem !== undefined) {
        try {
          spkiDer = parseCsr(request.csrPem).spkiDer;
        } catch (err) {
          throw new CaError(`acmpca backend "${name}": the dataplane's CSR is not valid (${(err as Error).message})`, false);
        }
        csrPem = request.csrPem;
      } else {
        const key = generateP256Key();
        // SANs in the CSR as well: CAs that ignore API passthrough (moto) still copy them from there.
        csrPem = createCsr({ keyPem: key.keyPem, uriSans, ...(commonName !== undefined ? { commonName } : {}) });
        spkiDer = key.spkiDer;
        keyPem = key.keyPem;
      }

      // One token for all retries of this issuance, so a retried request that did reach AWS
      // returns the same certificate instead of issuing a second one.
      const input = buildIssueInput({
        caArn,
        partition: settings.arn.partition,
        csrPem,
        uriSans,
        signingAlgorithm: ca.signingAlgorithm,
        notAfter,
        template,
        idempotencyToken: randomUUID(),
        ...(commonName !== undefined ? { commonName } : {}),
      });
      const issued = await call(
        'IssueCertificate',
        (signal) => client.send(new IssueCertificateCommand(input), { abortSignal: signal }),
        deadline,
      );
      if (!issued.CertificateArn) throw new CaError(`acmpca backend "${name}": IssueCertificate returned no certificate ARN`, true);
      const got = await poll(issued.CertificateArn, deadline);

      const chain = certificateChainFromPem(got.chain);
      const issuer = chain[0];
      const leaf = checkIssued(got.certificate, {
        backend: name,
        template,
        uriSans,
        ...(commonName !== undefined ? { commonName } : {}),
        spkiDer,
        notAfter,
        ...(issuer ? { caNotAfter: parseCertificate(issuer).notAfter } : ca.notAfter ? { caNotAfter: ca.notAfter } : {}),
      });
      log?.debug({ mesh: ctx.mesh, backend: name, dataplane: request.identity.name, serial: leaf.serial }, 'acmpca issued certificate');
      return {
        certChainPem: [leaf.pem, ...chain].join(''),
        ...(keyPem !== undefined ? { keyPem } : {}),
        serial: leaf.serial,
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
      };
    },

    async health(): Promise<BackendHealth> {
      try {
        const ca = await describe(Date.now() + rootsTimeoutMs);
        if (ca.Status === 'ACTIVE') return { ok: true, checkedAt: new Date() };
        return {
          ok: false,
          reason: `certificate authority ${caArn} is ${ca.Status ?? 'in an unknown state'}, not ACTIVE`,
          checkedAt: new Date(),
        };
      } catch (err) {
        return { ok: false, reason: err instanceof Error ? err.message : String(err), checkedAt: new Date() };
      }
    },

    clientState() {
      const { running, queued } = limiter.load();
      return { inFlight: running, queued, retries: counts.retries, backingOff: counts.backingOff };
    },

    async close(): Promise<void> {
      client.destroy();
    },
  };
}

import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { authenticate } from './auth.js';
import { createCertificateAuthority, forceStatus, getCertificateAuthorityCsr, importCertificateAuthorityCertificate } from './ca-ops.js';
import { operationFor } from './dispatch.js';
import { AwsError } from './errors.js';
import { createExternalRoot, type ExternalRoot } from './external-root.js';
import { createRateLimiter } from './rate-limit.js';
import type { CaStatus, ServerState } from './state.js';
import { makeTlsMaterial } from './tls.js';

export { createExternalRoot, type ExternalRoot } from './external-root.js';
export type { CaStatus } from './state.js';

export interface AcmPcaServerOptions {
  /** Serve HTTPS with a throwaway CA (returned as `caCertPem`). */
  https?: boolean;
  /** The access key id the server accepts (default AKIDACMPCATEST). */
  accessKeyId?: string;
  /** When set, SigV4 signatures are verified with this secret; otherwise any signature passes. */
  secretAccessKey?: string;
  /** Known key ids refused with AccessDeniedException. */
  deniedAccessKeyIds?: string[];
  /** GetCertificate answers RequestInProgressException for this long after IssueCertificate (default 0). */
  issueDelayMs?: number;
  /** Requests per second allowed per operation before ThrottlingException (default: unlimited). */
  ratePerSecond?: number;
  /** Added before every answer, so clients overlap requests and in-flight limits can be observed. */
  latencyMs?: number;
  region?: string;
  account?: string;
}

export interface CreateCaOptions {
  keyAlgorithm?: string;
  signingAlgorithm?: string;
  commonName?: string;
  /** Leave the CA in PENDING_CERTIFICATE instead of importing its certificate. */
  pending?: boolean;
  validityDays?: number;
}

export interface AcmPcaServerStats {
  requests: Record<string, number>;
  throttled: number;
  errors: Record<string, number>;
  issued: number;
  maxInFlight: number;
  accessKeyIds: string[];
}

export interface AcmPcaServer {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  caCertPem?: string;
  createCa(opts?: CreateCaOptions): Promise<string>;
  /** PEM of the external root that signed a CA made by createCa. */
  rootPem(arn: string): string | undefined;
  setCaStatus(arn: string, status: CaStatus): void;
  setIssueDelayMs(ms: number): void;
  stats(): AcmPcaServerStats;
  stop(): Promise<void>;
}

const MAX_BODY = 1 << 20;

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new AwsError('SerializationException', 'Request body is too large.');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  res.end(text);
}

const accessKeyOf = (auth: string | undefined): string | undefined => /Credential=([^/,\s]+)\//.exec(auth ?? '')?.[1];

export async function startAcmPcaServer(opts: AcmPcaServerOptions = {}): Promise<AcmPcaServer> {
  const credentials = { accessKeyId: opts.accessKeyId ?? 'AKIDACMPCATEST', secretAccessKey: opts.secretAccessKey ?? 'acmpca-test-secret' };
  const state: ServerState = {
    region: opts.region ?? 'us-east-1',
    account: opts.account ?? '123456789012',
    cas: new Map(),
    certs: new Map(),
    idempotency: new Map(),
    issueDelayMs: opts.issueDelayMs ?? 0,
    now: Date.now,
  };
  const limiter = createRateLimiter(opts.ratePerSecond);
  const stats: AcmPcaServerStats = { requests: {}, throttled: 0, errors: {}, issued: 0, maxInFlight: 0, accessKeyIds: [] };
  const roots = new Map<string, ExternalRoot>();
  let inFlight = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    inFlight += 1;
    stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
    try {
      const body = await readBody(req);
      const key = accessKeyOf(req.headers.authorization);
      if (key && !stats.accessKeyIds.includes(key)) stats.accessKeyIds.push(key);
      if (req.method !== 'POST')
        throw new AwsError('UnknownOperationException', `${req.method} is not supported; the AWS JSON protocol uses POST /.`);
      const target = req.headers['x-amz-target'];
      const op = operationFor(Array.isArray(target) ? target[0] : target);
      stats.requests[op.name] = (stats.requests[op.name] ?? 0) + 1;
      let input: Record<string, unknown>;
      try {
        input = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {};
      } catch {
        throw new AwsError('SerializationException', 'The request body is not valid JSON.');
      }
      const arn = typeof input.CertificateAuthorityArn === 'string' ? input.CertificateAuthorityArn : undefined;
      authenticate(
        { ...credentials, secretAccessKey: opts.secretAccessKey, deniedAccessKeyIds: opts.deniedAccessKeyIds },
        req.headers,
        req.url ?? '/',
        body,
        op.name,
        arn,
      );
      if (!limiter.take(op.name)) {
        stats.throttled += 1;
        throw new AwsError('ThrottlingException', 'Rate exceeded');
      }
      if (opts.latencyMs) await new Promise((r) => setTimeout(r, opts.latencyMs));
      const out = await op.run(state, input);
      if (op.name === 'IssueCertificate') stats.issued = state.certs.size;
      send(res, 200, out);
    } catch (err) {
      const e = err instanceof AwsError ? err : new AwsError('InternalFailure', `Internal error: ${(err as Error).message}`, 500);
      stats.errors[e.type] = (stats.errors[e.type] ?? 0) + 1;
      send(res, e.status, { __type: e.type, message: e.message });
    } finally {
      inFlight -= 1;
    }
  }

  const tls = opts.https ? await makeTlsMaterial() : undefined;
  const listener = (req: IncomingMessage, res: ServerResponse): void => void handle(req, res);
  const server: Server = tls ? createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, listener) : createHttpServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    region: state.region,
    credentials,
    ...(tls ? { caCertPem: tls.caCertPem } : {}),
    async createCa(o = {}) {
      // A SUBORDINATE CA signed by a fresh external root: the shape of 004_*'s setup.
      const { CertificateAuthorityArn: arn } = (await createCertificateAuthority(state, {
        CertificateAuthorityType: 'SUBORDINATE',
        CertificateAuthorityConfiguration: {
          KeyAlgorithm: o.keyAlgorithm ?? 'EC_prime256v1',
          SigningAlgorithm: o.signingAlgorithm ?? (o.keyAlgorithm?.startsWith('RSA') ? 'SHA256WITHRSA' : 'SHA256WITHECDSA'),
          Subject: { CommonName: o.commonName ?? 'meshca test CA', Organization: 'meshca' },
        },
      })) as { CertificateAuthorityArn: string };
      if (o.pending) return arn;
      const { Csr } = getCertificateAuthorityCsr(state, { CertificateAuthorityArn: arn }) as { Csr: string };
      const root = await createExternalRoot(`${o.commonName ?? 'meshca test CA'} root`);
      roots.set(arn, root);
      const certPem = await root.signCaCsr(Csr, { days: o.validityDays ?? 365 });
      await importCertificateAuthorityCertificate(state, {
        CertificateAuthorityArn: arn,
        Certificate: Buffer.from(certPem).toString('base64'),
        CertificateChain: Buffer.from(root.certPem).toString('base64'),
      });
      return arn;
    },
    rootPem: (arn) => roots.get(arn)?.certPem,
    setCaStatus: (arn, status) => forceStatus(state, arn, status),
    setIssueDelayMs(ms) {
      state.issueDelayMs = ms;
    },
    stats: () => structuredClone(stats),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// Where and as whom the backend talks to ACM PCA: region, endpoint, credentials and TLS trust.
import { Agent } from 'node:https';
import { ACMPCAClient } from '@aws-sdk/client-acm-pca';
import type { AcmpcaConf } from '@meshca/api';
import type { BackendContext } from '../backend.js';
import { CaError } from '../errors.js';

export interface CaArn {
  partition: string;
  region: string;
  account: string;
  id: string;
}

const CA_ARN = /^arn:(aws[a-z-]*):acm-pca:([^:]*):([^:]*):certificate-authority\/(.+)$/;
const REAL_REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export function parseCaArn(arn: string): CaArn | undefined {
  const m = CA_ARN.exec(arn);
  return m ? { partition: m[1]!, region: m[2]!, account: m[3]!, id: m[4]! } : undefined;
}

/**
 * A private CA exists in one region, and its ARN says which: that region wins when it is a real
 * one. AWS_REGION / AWS_DEFAULT_REGION cover ARNs without one (and placeholders in examples).
 */
export function resolveRegion(arn: CaArn, env: NodeJS.ProcessEnv = process.env): string {
  if (REAL_REGION.test(arn.region)) return arn.region;
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || arn.region || 'us-east-1';
}

/** The endpoint to name in messages: the override in force, else AWS's regional endpoint. */
export function endpointLabel(override: string | undefined, region: string, env: NodeJS.ProcessEnv = process.env): string {
  return override ?? env.AWS_ENDPOINT_URL_ACM_PCA ?? env.AWS_ENDPOINT_URL ?? `https://acm-pca.${region}.amazonaws.com`;
}

export interface ClientSettings {
  arn: CaArn;
  region: string;
  /** Explicit override (option or MESHCA_ACMPCA_ENDPOINT); otherwise the SDK's own resolution, which honours AWS_ENDPOINT_URL_ACM_PCA. */
  endpoint?: string;
  credentials: 'conf' | 'chain';
  client: ACMPCAClient;
}

interface AwsCredentialIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  expiration?: Date;
}

const trimmed = (b: Buffer): string => b.toString('utf8').trim();

/**
 * Builds the SDK client. The SDK's own retries are off (maxAttempts 1): the backend retries
 * itself, so that backoff, jitter and the in-flight bound are under one control.
 */
export async function createClient(
  ctx: BackendContext,
  opts: { endpoint?: string; maxSockets: number; connectionTimeoutMs: number; requestTimeoutMs: number },
): Promise<ClientSettings> {
  const conf = ctx.backend.conf as Partial<AcmpcaConf>;
  const name = ctx.backend.name;
  if (typeof conf.arn !== 'string' || conf.arn === '') {
    throw new CaError(
      `acmpca backend "${name}": conf.arn is required (arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>)`,
      false,
    );
  }
  const arn = parseCaArn(conf.arn);
  if (!arn) {
    throw new CaError(
      `acmpca backend "${name}": conf.arn "${conf.arn}" is not an ACM PCA certificate authority ARN (arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>)`,
      false,
    );
  }
  const region = resolveRegion(arn);
  const caPem = conf.caCert ? trimmed(await ctx.readDataSource(conf.caCert, 'conf.caCert')) : undefined;
  if (caPem !== undefined && !caPem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new CaError(
      `acmpca backend "${name}": conf.caCert is not a PEM certificate bundle ("-----BEGIN CERTIFICATE-----" expected)`,
      false,
    );
  }

  const keys = conf.auth?.awsCredentials;
  let credentials: (() => Promise<AwsCredentialIdentity>) | undefined;
  if (keys) {
    const read = async (): Promise<AwsCredentialIdentity> => {
      const [accessKeyId, secretAccessKey] = await Promise.all([
        ctx.readDataSource(keys.accessKey, 'conf.auth.awsCredentials.accessKey').then(trimmed),
        ctx.readDataSource(keys.accessKeySecret, 'conf.auth.awsCredentials.accessKeySecret').then(trimmed),
      ]);
      if (!accessKeyId) throw new CaError(`acmpca backend "${name}": conf.auth.awsCredentials.accessKey is empty`, false);
      if (!secretAccessKey) throw new CaError(`acmpca backend "${name}": conf.auth.awsCredentials.accessKeySecret is empty`, false);
      // The SDK re-asks a provider when expiration is under five minutes away: this re-reads the
      // secrets about once a minute, so rotated keys are picked up without reopening the backend.
      return { accessKeyId, secretAccessKey, expiration: new Date(Date.now() + 6 * 60_000) };
    };
    await read(); // fail at open, with the field, rather than at the first request
    credentials = read;
  }

  const httpsAgent = new Agent({ keepAlive: true, maxSockets: opts.maxSockets, ...(caPem ? { ca: caPem } : {}) });
  const client = new ACMPCAClient({
    region,
    maxAttempts: 1,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(credentials ? { credentials } : {}),
    // NodeHttpHandler's options: the SDK builds its handler (NodeHttpHandler.create) from them.
    requestHandler: { httpsAgent, connectionTimeout: opts.connectionTimeoutMs, requestTimeout: opts.requestTimeoutMs },
  });
  return { arn, region, ...(opts.endpoint ? { endpoint: opts.endpoint } : {}), credentials: keys ? 'conf' : 'chain', client };
}

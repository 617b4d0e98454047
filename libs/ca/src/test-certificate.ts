import { BACKEND_SPECS, type FieldError, type MtlsBackend } from '@meshca/api';
import { parseCertificate } from '@meshca/pki';
import type { BackendContext, BackendEnv, CaBackend, CaPlugin, DataplaneIdentity } from './backend.js';
import { CaError } from './errors.js';
import { identityUriSans } from './identity.js';
import { dpCertTtlSeconds } from './ttl.js';

/** The identity of the certificate global issues to prove a backend works; it is never handed out. */
export function validationIdentity(mesh: string): DataplaneIdentity {
  return { mesh, name: 'meshca-validation', tags: { 'kuma.io/service': ['meshca-validation'] } };
}

/** Clock skew and back-dating a CA may apply without the certificate counting as short. */
const VALIDITY_SLACK_SECONDS = 5 * 60;

/**
 * Issues one real certificate through the backend, as global does before it accepts a new or
 * changed external CA, and checks it carries the identity and lives as long as asked.
 */
export async function validateByTestCertificate(mesh: string, spec: MtlsBackend, ca: CaBackend, field: string): Promise<FieldError[]> {
  const identity = validationIdentity(mesh);
  const ttl = dpCertTtlSeconds(spec);
  const where = `${spec.type} backend "${spec.name}"`;
  let issued;
  try {
    issued = await ca.issue({ identity, ttlSeconds: ttl });
    await ca.roots();
  } catch (err) {
    // Backends already start their messages with their own name; say it once.
    const reason = (err instanceof Error ? err.message : String(err)).replace(`${where}: `, '');
    return [{ field, message: `${where} could not issue a test certificate: ${reason}` }];
  }
  const leaf = parseCertificate(issued.certChainPem);
  const wanted = identityUriSans(identity);
  const missing = wanted.filter((uri) => !leaf.uriSans.includes(uri));
  if (missing.length > 0) {
    return [
      {
        field,
        message: `${where} issued a test certificate without the URI SANs ${missing.join(', ')}; the CA dropped the dataplane identity (check the role's allowed_uri_sans or the CA's template)`,
      },
    ];
  }
  const lifetime = (leaf.notAfter.getTime() - Date.now()) / 1000;
  if (lifetime + VALIDITY_SLACK_SECONDS < ttl) {
    const hours = (s: number) => `${Math.round((s / 3600) * 10) / 10}h`;
    const cap = BACKEND_SPECS[spec.type].lifetimeCap ?? "the CA's own limit";
    return [
      {
        field: `${field}.dpCert.rotation.expiration`,
        message: `${where} issued a test certificate valid for ${hours(lifetime)}, shorter than dpCert.rotation.expiration (${hours(ttl)}); the CA caps lifetimes: dpCert.rotation.expiration must not exceed the cap (${cap}; equal is fine) — lower the expiration, or raise the cap`,
      },
    ];
  }
  return [];
}

/** The apply-time check of a backend that proves itself by issuing: open it, issue once, close it. */
export async function checkByTestCertificate(
  ctx: BackendContext,
  field: string,
  opts: { env: BackendEnv; skipTestCertificate: boolean },
  plugin: CaPlugin,
): Promise<FieldError[]> {
  if (opts.skipTestCertificate) return [];
  const { backend } = ctx;
  let ca: CaBackend;
  try {
    ca = await plugin.open(ctx, opts.env);
  } catch (err) {
    return [
      { field, message: `${backend.type} backend "${backend.name}" cannot be used: ${err instanceof Error ? err.message : String(err)}` },
    ];
  }
  try {
    return await validateByTestCertificate(ctx.mesh, backend, ca, field);
  } finally {
    await ca.close();
  }
}

export function isRetryable(err: unknown): boolean {
  return err instanceof CaError && err.retryable;
}

// What a dataplane token lets in: the token, not the dataplane, decides the identity.
import { validateResource, WORKLOAD_LABEL, type DataplaneSpec } from '@meshca/api';
import { SERVICE_TAG, type DataplaneIdentity } from '@meshca/ca';
import type { DataplaneDocument } from '@meshca/dp-protocol';

export interface DataplaneTokenClaims {
  mesh: string;
  name: string;
  /** When set, each tag named here restricts the inbounds' values of that tag (comma-separated list of allowed values). */
  tags?: Record<string, string>;
  /** The kuma.io/workload label the dataplane must carry; set on it when it has none. */
  workload?: string;
  /** The token's id and signing key, so a revocation can reach a connection that is already open. */
  jti?: string;
  kid?: string;
  /** When the token expires: its connection ends then, and it is issued nothing after. */
  expiresAt?: Date;
}

export type TokenCheck = { ok: true; claims: DataplaneTokenClaims } | { ok: false; error: { reason: string; message: string } };

export type VerifyDataplaneToken = (token: string | undefined) => TokenCheck | Promise<TokenCheck>;

export type Authorization =
  { ok: true; identity: DataplaneIdentity; spec: DataplaneSpec } | { ok: false; reason: 'bad-request' | 'forbidden'; message: string };

/**
 * Checks a registration against the token's claims: same mesh and name, and every inbound tag the
 * token names has a value the token allows. Tags the token does not name are free (as in Kuma).
 */
export function authorizeRegistration(claims: DataplaneTokenClaims, doc: DataplaneDocument): Authorization {
  const errors = validateResource({
    meta: { type: 'Dataplane', mesh: doc.mesh, name: doc.name, ...(doc.labels === undefined ? {} : { labels: doc.labels }) },
    spec: { networking: doc.networking },
  });
  if (errors.length > 0) {
    return { ok: false, reason: 'bad-request', message: `invalid Dataplane: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}` };
  }
  if (doc.mesh !== claims.mesh) {
    return {
      ok: false,
      reason: 'forbidden',
      message: `the token is for mesh "${claims.mesh}", not "${doc.mesh}"; use the token generated for this dataplane`,
    };
  }
  if (doc.name !== claims.name) {
    return {
      ok: false,
      reason: 'forbidden',
      message: `the token is for dataplane "${claims.name}", not "${doc.name}"; use the token generated for this dataplane`,
    };
  }
  // A gateway's identity comes from its gateway tags, as in Kuma; anything else's from its inbounds.
  const { gateway, inbound } = doc.networking;
  const tagged =
    gateway !== undefined
      ? [{ path: 'networking.gateway.tags', tags: gateway.tags }]
      : (inbound ?? []).map((inb, i) => ({ path: `networking.inbound[${i}].tags`, tags: inb.tags }));
  const tags: Record<string, string[]> = {};
  for (const { path, tags: given } of tagged) {
    for (const [tag, value] of Object.entries(given)) {
      const allowed = claims.tags?.[tag];
      if (
        allowed !== undefined &&
        !allowed
          .split(',')
          .map((s) => s.trim())
          .includes(value)
      ) {
        return {
          ok: false,
          reason: 'forbidden',
          message: `${path}["${tag}"]: the token allows ${JSON.stringify(allowed)}, not ${JSON.stringify(value)}; generate a token with this tag or fix the Dataplane`,
        };
      }
      (tags[tag] ??= []).includes(value) || tags[tag].push(value);
    }
  }
  if (!tags[SERVICE_TAG]) return { ok: false, reason: 'bad-request', message: `invalid Dataplane: no inbound has a ${SERVICE_TAG} tag` };
  const labels = workloadLabels(claims, doc.labels ?? {});
  if (typeof labels === 'string') return { ok: false, reason: labels.startsWith('labels[') ? 'bad-request' : 'forbidden', message: labels };
  return { ok: true, identity: { mesh: doc.mesh, name: doc.name, tags, labels }, spec: { networking: doc.networking } };
}

const DNS_1035 = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The dataplane's labels with the token's workload (Kuma's rules); a string says why it is refused. */
function workloadLabels(claims: DataplaneTokenClaims, given: Record<string, string>): Record<string, string> | string {
  const own = given[WORKLOAD_LABEL];
  if (own !== undefined && own !== '' && !DNS_1035.test(own)) {
    return `labels["${WORKLOAD_LABEL}"]: must be a valid DNS-1035 label (at most 63 characters, matching regex [a-z]([-a-z0-9]*[a-z0-9])?)`;
  }
  if (claims.workload === undefined) return given;
  if (own === undefined || own === '') return { ...given, [WORKLOAD_LABEL]: claims.workload };
  if (own !== claims.workload) {
    return `dataplane workload "${own}" is not allowed with this token. Allowed workload in token is "${claims.workload}"; fix the label or generate a token with --workload ${own}`;
  }
  return given;
}

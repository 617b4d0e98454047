// What a dataplane's next certificate is issued from: the MeshIdentity that selects it (the most
// specific one), or its mesh's enabled Mesh.mtls backend.
//
// Moving a dataplane to a new CA must not break its calls: peers verify its certificate against
// their bundles. So a dataplane moves to an identity only once global's MeshInsight says every
// connected dataplane of the mesh, in every zone, trusts that identity's CA; until then it keeps
// what it has (renewed from the same source), with the move reported as pending. A dataplane
// already on the identity's CA stays on it; one with nothing else to fall back to moves at once.
import {
  bestMatch,
  DEFAULT_IDENTITY_EXPIRY,
  missingWorkloadLabel,
  parseDuration,
  renderSpiffeId,
  usesWorkloadLabel,
  WORKLOAD_LABEL,
} from '@meshca/api';
import { dpCertTtlSeconds, type CaBackend, type DataplaneIdentity } from '@meshca/ca';
import { canonicalJson } from './fingerprint.js';
import type { MeshView } from './mesh-ca-cache.js';
import type { IdentityEntry } from './mesh-identities.js';
import { createHash } from 'node:crypto';

export type Source =
  | {
      kind: 'issue';
      ca: CaBackend;
      roots: readonly string[];
      /** What DataplaneInsights name as issuedBackend: the backend name, or the identity's KRI. */
      name: string;
      /** Set when it is a MeshIdentity. */
      identity?: string;
      ttlSeconds: number;
      /** A MeshIdentity's SPIFFE ID; absent for Mesh.mtls (its URI SANs come from the tags). */
      uriSans?: string[];
      /** A certificate issued under another fingerprint is re-issued. */
      fp: string;
    }
  | { kind: 'waiting'; reason: string }
  /** The enabled backend could not be opened: retried, and reopened. */
  | { kind: 'unavailable'; error: string };

export interface Choice {
  source: Source;
  /** A MeshIdentity selects it but it is not moved to it yet, and why. */
  pending?: string;
  /** Kuma refuses such a dataplane's connection (a label its identity's path needs is missing). */
  refuse?: string;
}

/** What a dataplane waits for when its mesh cannot issue at all. */
export function waitingReason(view: MeshView): string | undefined {
  if (!view.exists) return `mesh "${view.mesh}" does not exist in this zone (yet); it arrives from global`;
  if (view.enabledMissing !== undefined) return `mesh "${view.mesh}" enables backend "${view.enabledMissing}", which it does not list`;
  if (!view.enabled) return `mesh "${view.mesh}" has no mTLS enabled (mtls.enabledBackend is not set); waiting for it`;
  return undefined;
}

function meshMtls(view: MeshView): Source {
  const reason = waitingReason(view);
  if (reason !== undefined) return { kind: 'waiting', reason };
  const entry = view.enabled;
  if (!entry?.ca || !entry.roots || view.enabledFp === undefined)
    return { kind: 'unavailable', error: entry?.error ?? 'the enabled backend is not available' };
  return {
    kind: 'issue',
    ca: entry.ca,
    roots: entry.roots,
    name: entry.backend.name,
    ttlSeconds: dpCertTtlSeconds(entry.backend),
    fp: view.enabledFp,
  };
}

function expirySeconds(entry: IdentityEntry): number {
  return parseDuration(entry.spec.provider?.bundled?.certificateParameters?.expiry ?? DEFAULT_IDENTITY_EXPIRY);
}

/** Issuing from `entry` for this dataplane, or why it cannot. */
function fromIdentity(
  entry: IdentityEntry,
  labels: Readonly<Record<string, string>>,
): { source: Source } | { problem: string; refuse?: boolean } {
  if (!entry.ca || !entry.roots || entry.trustDomain === undefined) {
    return { problem: `MeshIdentity "${entry.name}" selects it but issues nothing in this zone: ${entry.error ?? 'its CA is not open'}` };
  }
  if (usesWorkloadLabel(entry.spec) && !labels[WORKLOAD_LABEL])
    return { problem: missingWorkloadLabel(entry.name, entry.spec), refuse: true };
  const id = renderSpiffeId(entry.spec, entry.trustDomain, labels);
  if (!id.ok) return { problem: `MeshIdentity "${entry.name}": ${id.error}` };
  const ttlSeconds = expirySeconds(entry);
  const fp = createHash('sha256')
    .update(canonicalJson({ identity: entry.name, id: id.value, ttlSeconds, roots: entry.roots }))
    .digest('base64url')
    .slice(0, 22);
  return {
    source: { kind: 'issue', ca: entry.ca, roots: entry.roots, name: entry.kri, identity: entry.name, ttlSeconds, uriSans: [id.value], fp },
  };
}

function trustedEverywhere(view: MeshView, entry: IdentityEntry): boolean {
  const trusted = view.insight?.mTLS.trustedEverywhere;
  if (!trusted || !entry.rootFingerprints || entry.rootFingerprints.length === 0) return false;
  return entry.rootFingerprints.every((f) => trusted.includes(f));
}

function sameRoots(a: readonly string[] | undefined, b: readonly string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The dataplane as the choice reads it: its labels and tags, and what it holds. */
export interface Chooser {
  identity: DataplaneIdentity;
  held: { identity?: string | undefined };
  trust: { roots: readonly string[] | undefined };
}

export function chooseSource(view: MeshView, s: Chooser): Choice {
  if (!view.exists) return { source: meshMtls(view) };
  const labels = s.identity.labels ?? {};
  const best = bestMatch([...view.identities.values()], { labels, tags: s.identity.tags });
  if (!best) return { source: meshMtls(view) };
  const candidate = fromIdentity(best, labels);
  if ('problem' in candidate) {
    return { source: meshMtls(view), pending: candidate.problem, ...(candidate.refuse ? { refuse: candidate.problem } : {}) };
  }
  if (sameRoots(s.trust.roots, best.roots ?? []) || trustedEverywhere(view, best)) return candidate;
  // Not trusted everywhere yet: renew what it holds, from the identity that issued it or from Mesh.mtls.
  const heldEntry = s.held.identity !== undefined ? view.identities.get(s.held.identity) : undefined;
  const held = heldEntry && heldEntry !== best ? fromIdentity(heldEntry, labels) : undefined;
  const fallback = held && 'source' in held ? held.source : meshMtls(view);
  const pending = `moving to MeshIdentity "${best.name}" once every dataplane in every zone trusts its CA (${view.insight?.mTLS.pending ?? (view.insight ? 'their bundles are being updated' : 'waiting for the MeshInsight from global')})`;
  // A Mesh.mtls CA that is down is retried rather than left for a CA nobody trusts yet.
  if (fallback.kind !== 'waiting') return { source: fallback, pending };
  // Nothing else can issue (mTLS off, or no such mesh): the identity it is for.
  return candidate;
}

// What global tells every zone about a mesh: how many dataplanes hold what, and which CA
// certificates every connected dataplane, in every zone, already trusts. A zone moves a dataplane
// to a MeshIdentity's CA only once that CA is in `trustedEverywhere` (see libs/identity/src/source.ts).
import type { MeshInsightSpec } from '../types.js';

/** One dataplane as its zone reported it (its DataplaneInsight). */
export interface InsightInput {
  name: string;
  zone: string;
  connected: boolean;
  issuedBackend?: string;
  /** SHA-256 of each certificate in the bundle it holds; absent before its first certificate. */
  trustedCaFingerprints?: string[];
}

/** The zones as global sees them. */
export interface ZonesSeen {
  online: ReadonlySet<string>;
  /**
   * Zones that connected moments ago, by how long ago in seconds. A zone that restarted lost its
   * dataplanes' connections: until they have reconnected and reported what they trust, a zone with
   * no dataplanes in its report looks like a zone where nobody could break.
   */
  settling?: ReadonlyMap<string, number>;
}

/**
 * `known` is every CA certificate the mesh's MeshTrusts carry (by fingerprint). With no connected
 * dataplane, every known CA counts as trusted everywhere: nobody is there to break. A dataplane
 * still waiting for its first certificate gets the current bundle with it, so it does not count.
 */
export function computeMeshInsight(dataplanes: readonly InsightInput[], zones: ZonesSeen, known: readonly string[]): MeshInsightSpec {
  const onlineZones = zones.online;
  const connected = dataplanes.filter((d) => d.connected && onlineZones.has(d.zone));
  const offline = [...new Set(dataplanes.filter((d) => d.connected && !onlineZones.has(d.zone)).map((d) => d.zone))].sort();
  const issuedBackends: Record<string, number> = {};
  for (const d of connected)
    if (d.issuedBackend !== undefined) issuedBackends[d.issuedBackend] = (issuedBackends[d.issuedBackend] ?? 0) + 1;
  const base = { dataplanes: { total: dataplanes.length, online: connected.length } };
  if (offline.length > 0) {
    return {
      ...base,
      mTLS: {
        issuedBackends,
        trustedEverywhere: [],
        pending: `${offline.length === 1 ? 'zone' : 'zones'} ${offline.map((z) => `"${z}"`).join(', ')} ${offline.length === 1 ? 'is' : 'are'} offline, so what its dataplanes trust is unknown`,
      },
    };
  }
  const settling = [...(zones.settling ?? [])].sort(([a], [b]) => (a < b ? -1 : 1));
  if (settling.length > 0) {
    return {
      ...base,
      mTLS: {
        issuedBackends,
        trustedEverywhere: [],
        pending: `${settling.map(([z, s]) => `zone "${z}" connected ${s}s ago`).join(', ')}: waiting for ${settling.length === 1 ? 'its' : 'their'} dataplanes to reconnect and report what they trust`,
      },
    };
  }
  let trusted = [...new Set(known)].sort();
  const lagging = new Map<string, string[]>();
  for (const d of connected) {
    if (d.trustedCaFingerprints === undefined) continue;
    const have = new Set(d.trustedCaFingerprints);
    if (known.some((f) => !have.has(f))) lagging.set(d.zone, [...(lagging.get(d.zone) ?? []), d.name]);
    trusted = trusted.filter((f) => have.has(f));
  }
  const laggards = [...lagging.values()].reduce((n, names) => n + names.length, 0);
  const pending =
    laggards === 0
      ? undefined
      : `${laggards} ${laggards === 1 ? 'dataplane does' : 'dataplanes do'} not hold every MeshTrust in its bundle yet (${[
          ...lagging.entries(),
        ]
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(
            ([zone, names]) => `zone "${zone}": ${names.slice(0, 5).join(', ')}${names.length > 5 ? ` and ${names.length - 5} more` : ''}`,
          )
          .join('; ')})`;
  return { ...base, mTLS: { issuedBackends, trustedEverywhere: trusted, ...(pending !== undefined ? { pending } : {}) } };
}

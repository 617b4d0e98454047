// The trust bundle a zone sends for one mesh: the roots of its listed backends, plus "retired" roots —
// roots that are no longer any backend's (a backend changed to another CA in place, or removed) but
// that a certificate some dataplane of the zone still holds chains to. Dropping such a root at once
// would break handshakes with that dataplane until it is re-issued; keeping it until the last holder
// is re-issued (or gone) makes an in-place CA change as safe as a three-step rotation.
import { fingerprintOf } from './mesh-identities.js';

export interface TrustBundle {
  readonly bundlePem: string;
  /** The backends whose roots are in it; retired roots belong to no backend and are not listed. */
  readonly bundleBackends: string[];
  /** How many roots are in it only because a held certificate still chains to them. */
  readonly retiredRoots: number;
  /** SHA-256 (hex) of each certificate in it: global's MeshInsight intersects them across dataplanes. */
  readonly caFingerprints: string[];
}

const fingerprints = new Map<string, string>();

/** A PEM's SHA-256 fingerprint; remembered, since every bundle of a mesh holds the same few roots. */
function fingerprint(pem: string): string {
  let f = fingerprints.get(pem);
  if (f === undefined) {
    f = fingerprintOf(pem);
    if (fingerprints.size >= 4096) fingerprints.clear();
    fingerprints.set(pem, f);
  }
  return f;
}

/**
 * Counts, per root set, the dataplanes holding a certificate issued under it. Keys are the root
 * arrays of the backend entries that issued (shared, so counting costs no copies); `changed` is set
 * when a root set appears or disappears, i.e. when the bundle may have to change.
 */
export interface HeldRoots {
  hold(roots: readonly string[]): void;
  /**
   * One holder fewer. The last one's set lingers `lingerMs` more (other zones' dataplanes may still
   * hold certificates under it: their re-issues run on their own clocks); then `changed` is set and
   * `onExpired` called.
   */
  release(roots: readonly string[], lingerMs: number): void;
  sets(): Iterable<readonly string[]>;
  changed: boolean;
  close(): void;
}

export function createHeldRoots(onExpired: () => void): HeldRoots {
  const counts = new Map<readonly string[], number>();
  const lingering = new Map<readonly string[], NodeJS.Timeout>();
  const held: HeldRoots = {
    changed: false,
    hold(roots) {
      const timer = lingering.get(roots);
      if (timer) {
        clearTimeout(timer);
        lingering.delete(roots);
      }
      const n = counts.get(roots) ?? 0;
      counts.set(roots, n + 1);
      if (n === 0 && !timer) held.changed = true;
    },
    release(roots, lingerMs) {
      const n = counts.get(roots);
      if (n === undefined || n === 0) return;
      if (n > 1) return void counts.set(roots, n - 1);
      if (lingerMs <= 0) {
        counts.delete(roots);
        held.changed = true;
        return;
      }
      counts.set(roots, 0);
      const timer = setTimeout(() => {
        lingering.delete(roots);
        counts.delete(roots);
        held.changed = true;
        onExpired();
      }, lingerMs);
      timer.unref();
      lingering.set(roots, timer);
    },
    sets: () => counts.keys(),
    close() {
      for (const t of lingering.values()) clearTimeout(t);
      lingering.clear();
    },
  };
  return held;
}

/** Whether a root set has a root that is not among the mesh's backends' roots any more. */
export function isRetired(roots: readonly string[], current: readonly string[]): boolean {
  return roots.some((pem) => !current.includes(pem));
}

/**
 * The bundle of the backends' roots (`roots`, in backend order) followed by every held root not
 * among them. Returns `previous` when nothing changed, so sessions keep sharing one string.
 */
export function trustBundle(
  current: { roots: readonly string[]; bundleBackends: string[] },
  held: Iterable<readonly string[]>,
  previous: TrustBundle | undefined,
): TrustBundle {
  const pems = [...current.roots];
  const seen = new Set(pems);
  let retiredRoots = 0;
  for (const set of held) {
    for (const pem of set) {
      if (seen.has(pem)) continue;
      seen.add(pem);
      pems.push(pem);
      retiredRoots++;
    }
  }
  const bundlePem = pems.join('');
  if (
    previous &&
    previous.bundlePem === bundlePem &&
    previous.retiredRoots === retiredRoots &&
    sameList(previous.bundleBackends, current.bundleBackends)
  ) {
    return previous;
  }
  return { bundlePem, bundleBackends: current.bundleBackends, retiredRoots, caFingerprints: pems.map(fingerprint) };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// A zone's guard against a global that came back with other data than the zone was synced from
// (global restarted on the memory store, its Redis flushed): such a global would delete every Mesh
// and Secret the zone holds and the zone would stop issuing. The zone keeps what it holds and
// follows global again once global's state holds all of it (the operator re-applied it), or when
// the operator says so (--accept-global-reset).
import type { Resource, ResourceInput, ResourceType } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import { keyString, type Batch } from './apply-batch.js';

export interface Divergence {
  /** Epoch of global's store now. */
  globalEpoch: string;
  /** Epoch of the data this zone holds. */
  heldEpoch: string;
  /** What global's state lacks of what the zone holds, e.g. `Mesh "default"`. */
  missing: string[];
  since: string;
}

export type Screened = { apply: Batch } | { refuse: string };

export interface DatasetGuard {
  /** At welcome: whether global's epoch differs from the held one (what comes next is screened). */
  welcome(globalEpoch: string | undefined, heldEpoch: string | undefined): void;
  /** What to do with a version from global. */
  screen(batch: Batch): Promise<Screened>;
  divergence(): Divergence | undefined;
}

export interface DatasetGuardOptions {
  store: ResourceStore;
  /** Take global's state even when it deletes what the zone holds. */
  acceptReset: boolean;
  onDiverged(d: Divergence): void;
  onRejoined(how: 'covered' | 'accepted', d: Divergence): void;
  /** What the zone made itself: not global's to lack. */
  keep?: (r: Resource) => boolean;
}

/**
 * What losing would stop the zone issuing: the configuration operators applied. Other zones'
 * MeshTrusts and global's MeshInsight come back on their own once global is running again.
 */
const GUARDED: readonly ResourceType[] = ['Mesh', 'Secret', 'GlobalSecret', 'MeshIdentity'];

const describe = (r: { type: string; name: string; mesh?: string }) =>
  r.mesh === undefined ? `${r.type} "${r.name}"` : `${r.type} "${r.name}" in mesh "${r.mesh}"`;

export function createDatasetGuard(opts: DatasetGuardOptions): DatasetGuard {
  let screening: { globalEpoch: string; heldEpoch: string } | undefined;
  // Global's whole state as received since the epoch changed: the snapshot, then its deltas.
  let shadow: { types: readonly ResourceType[]; resources: Map<string, ResourceInput> } | undefined;
  let diverged: Divergence | undefined;

  return {
    welcome(globalEpoch, heldEpoch) {
      shadow = undefined;
      screening =
        globalEpoch !== undefined && heldEpoch !== undefined && globalEpoch !== heldEpoch ? { globalEpoch, heldEpoch } : undefined;
      if (screening === undefined) diverged = undefined;
    },
    async screen(batch) {
      if (screening === undefined) return { apply: batch };
      if (batch.kind === 'snapshot') {
        shadow = { types: batch.types, resources: new Map(batch.resources.map((r) => [keyString(r.meta), r])) };
      } else if (shadow !== undefined) {
        for (const c of batch.changes) {
          if (c.op === 'upsert') shadow.resources.set(keyString(c.resource.meta), c.resource);
          else shadow.resources.delete(keyString(c.key));
        }
      } else {
        return { refuse: 'a delta from another dataset of global arrived before its snapshot' };
      }
      const missing: string[] = [];
      for (const type of shadow.types.filter((t) => GUARDED.includes(t))) {
        for (const held of await opts.store.list(type)) {
          if (!shadow.resources.has(keyString(held.meta)) && opts.keep?.(held) !== true) missing.push(describe(held.meta));
        }
      }
      const whole: Batch = { kind: 'snapshot', types: shadow.types, resources: [...shadow.resources.values()] };
      const d: Divergence = { ...screening, missing, since: diverged?.since ?? new Date().toISOString() };
      if (missing.length === 0 || opts.acceptReset) {
        screening = undefined;
        shadow = undefined;
        diverged = undefined;
        opts.onRejoined(missing.length === 0 ? 'covered' : 'accepted', d);
        return { apply: whole };
      }
      const first = diverged === undefined;
      diverged = d;
      if (first) opts.onDiverged(d);
      const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? ` and ${missing.length - 5} more` : '');
      return {
        refuse:
          `global's store is another dataset (epoch ${d.globalEpoch}) than the one this zone was synced from (epoch ${d.heldEpoch}), and lacks ${missing.length} resource${missing.length === 1 ? '' : 's'} this zone holds: ${shown}. ` +
          "The zone keeps them and keeps issuing. Re-apply them on global (the zone follows again once global holds all of them), or restart the zone with --accept-global-reset to take global's state as it is",
      };
    },
    divergence: () => (diverged === undefined ? undefined : structuredClone(diverged)),
  };
}

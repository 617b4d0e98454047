// The trust bundle of each mesh as this zone hands it out: the roots of the mesh's backends plus
// retired roots that certificates held by its dataplanes still chain to (see trust-bundle.ts).
import type { Logger } from '@meshca/common';
import type { MeshCaCache, MeshView } from './mesh-ca-cache.js';
import type { Session } from './session.js';
import { createHeldRoots, isRetired, trustBundle, type HeldRoots, type TrustBundle } from './trust-bundle.js';

export interface MeshTrusts {
  /** The mesh's bundle for this view, computed again when the view or the held roots changed. */
  bundle(mesh: string, view: MeshView): TrustBundle;
  /** The bundle last handed out for the mesh. */
  last(mesh: string): TrustBundle | undefined;
  /** Moves what `s` holds to `roots`; when a root set appears or disappears, the mesh's bundle follows. */
  hold(s: Session, roots: readonly string[] | undefined): void;
  /** After held roots changed: the mesh's new bundle, if it changed (given to onChanged). */
  follow(mesh: string): void;
  close(): void;
}

interface MeshTrust {
  readonly held: HeldRoots;
  /** The view `bundle` was computed from. */
  view: MeshView | undefined;
  bundle: TrustBundle | undefined;
}

export function createMeshTrusts(opts: {
  cas: MeshCaCache;
  log: Logger;
  /** How long a retired root stays after the last certificate under it in this zone is re-issued. */
  retiredRootLingerMs: number;
  /** A mesh's bundle changed because held roots did (every session of the mesh gets it). */
  onChanged(mesh: string, bundle: TrustBundle): void;
}): MeshTrusts {
  const trusts = new Map<string, MeshTrust>();
  let closed = false;

  function meshTrust(mesh: string): MeshTrust {
    let t = trusts.get(mesh);
    if (!t) trusts.set(mesh, (t = { held: createHeldRoots(() => follow(mesh)), view: undefined, bundle: undefined }));
    return t;
  }

  function bundle(mesh: string, view: MeshView): TrustBundle {
    const t = meshTrust(mesh);
    if (t.bundle === undefined || t.view !== view || t.held.changed) {
      const previous = t.bundle;
      t.held.changed = false;
      t.view = view;
      t.bundle = trustBundle(view, t.held.sets(), previous);
      const was = previous?.retiredRoots ?? 0;
      if (t.bundle.retiredRoots !== was) {
        opts.log.info(
          { mesh, retiredRoots: t.bundle.retiredRoots },
          t.bundle.retiredRoots > was
            ? "CA roots left the mesh's backends but dataplane certificates still chain to them: they stay in the trust bundle until those are re-issued"
            : 'retired CA roots no dataplane certificate chains to any more left the trust bundle',
        );
      }
    }
    return t.bundle;
  }

  function follow(mesh: string): void {
    const t = trusts.get(mesh);
    const view = opts.cas.peek(mesh);
    if (closed || !t?.held.changed || !view) return;
    const before = t.bundle;
    const after = bundle(mesh, view);
    if (after !== before) opts.onChanged(mesh, after);
  }

  return {
    bundle,
    last: (mesh) => trusts.get(mesh)?.bundle,
    hold(s, roots) {
      const { held } = meshTrust(s.identity.mesh);
      if (s.trust.roots) {
        // Only a root that left the backends lingers: a removal (step 3) was checked on global
        // against every zone, so it leaves the bundle at once.
        const current = opts.cas.peek(s.identity.mesh)?.roots ?? [];
        held.release(s.trust.roots, isRetired(s.trust.roots, current) ? opts.retiredRootLingerMs : 0);
      }
      if (roots) held.hold(roots);
      s.trust.roots = roots;
    },
    follow,
    close() {
      closed = true;
      for (const t of trusts.values()) t.held.close();
    },
  };
}

// Mesh, Secret, MeshIdentity, MeshTrust, MeshTLS and MeshInsight changes arrive from global through
// KDS into the zone's store (and the zone writes its own MeshTrusts): each one reloads the meshes it
// touches (coalesced), and the change goes to onChanged.
import type { Logger } from '@meshca/common';
import type { ResourceStore } from '@meshca/store';
import type { MeshCaCache, MeshView } from './mesh-ca-cache.js';

export interface MeshWatch {
  /** Resolves once the watch runs: an issuance waits for it, so no change is missed. */
  readonly ready: Promise<void>;
  /** Reloads a mesh whose enabled backend failed to open, at most once per `reopenIntervalMs`. */
  reopenSoon(mesh: string): void;
  close(): void;
}

/** A burst of KDS changes (a snapshot, a Mesh with its CA secrets) is one reload. */
const COALESCE_MS = 20;

export function watchMeshes(opts: {
  store: ResourceStore;
  cas: MeshCaCache;
  log: Logger;
  reopenIntervalMs: number;
  onChanged(before: MeshView | undefined, after: MeshView): void;
  /** A MeshIdentity changed in a mesh no dataplane has loaded yet (its CA and MeshTrust are made anyway). */
  onIdentityOfUnloadedMesh?(mesh: string): void;
}): MeshWatch {
  const { store, cas } = opts;
  const pending = new Map<string, Set<string>>();
  const lastReopen = new Map<string, number>();
  let timer: NodeJS.Timeout | undefined;
  let stop: () => void = () => {};
  let closed = false;

  async function start(): Promise<void> {
    const from = await store.revision();
    if (closed) return;
    stop = store.watch(
      from,
      (event) => {
        const { type, name, mesh } = event.key;
        if (type === 'Mesh' || type === 'MeshInsight') queue(name, undefined);
        else if (type === 'Secret' && mesh !== undefined) queue(mesh, name);
        else if ((type === 'MeshIdentity' || type === 'MeshTrust' || type === 'MeshTLS') && mesh !== undefined) {
          if (type === 'MeshIdentity' && cas.peek(mesh) === undefined) opts.onIdentityOfUnloadedMesh?.(mesh);
          queue(mesh, undefined);
        } else if (type === 'GlobalSecret') for (const m of cas.loaded()) queue(m, name);
      },
      () => {
        // Missed changes: re-read every mesh we serve and watch again.
        for (const m of cas.loaded()) queue(m, undefined, true);
        void start();
      },
    );
  }

  function queue(mesh: string, secret: string | undefined, all = false): void {
    if (cas.peek(mesh) === undefined) return; // not loaded: it will be read fresh on first use
    const set = pending.get(mesh) ?? new Set<string>();
    if (secret !== undefined) set.add(secret);
    if (all) set.add('\0all');
    pending.set(mesh, set);
    timer ??= setTimeout(run, COALESCE_MS);
  }

  function run(): void {
    timer = undefined;
    const work = [...pending];
    pending.clear();
    for (const [mesh, secrets] of work) {
      void cas.refresh(mesh, secrets).then(
        ({ before, after }) => {
          if (!closed) opts.onChanged(before, after);
        },
        (err: unknown) => {
          opts.log.error({ mesh, err: String(err) }, 'reloading mesh CAs failed');
        },
      );
    }
  }

  return {
    ready: start(),
    reopenSoon(mesh) {
      const now = Date.now();
      if (now - (lastReopen.get(mesh) ?? -Infinity) < opts.reopenIntervalMs) return;
      lastReopen.set(mesh, now);
      queue(mesh, undefined);
    },
    close() {
      closed = true;
      stop();
      if (timer) clearTimeout(timer);
    },
  };
}

// The CAs of each mesh as this zone sees them: opened backends cached per (mesh, backend config),
// reopened when their config or the secrets they read change, and the mesh's trust bundle.
import type { MeshSpec, MtlsBackend } from '@meshca/api';
import { builtinSecretNames, type BackendEnv, type CaBackend } from '@meshca/ca';
import type { Logger } from '@meshca/common';
import { issuanceFingerprint } from './fingerprint.js';

export type OpenBackend = (mesh: string, backend: MtlsBackend, env: BackendEnv) => Promise<CaBackend>;

export interface BackendEntry {
  /** The backend's config as JSON: a different key means a different CA instance. */
  readonly key: string;
  readonly backend: MtlsBackend;
  /** Absent while it cannot be opened (see error). */
  readonly ca?: CaBackend;
  /** Last known roots; kept while the CA is unavailable so the bundle does not lose trust. */
  readonly roots?: string[];
  readonly error?: string;
}

export interface MeshView {
  readonly mesh: string;
  readonly exists: boolean;
  readonly enabled?: BackendEntry;
  /** `enabledBackend` names a backend that is not listed. */
  readonly enabledMissing?: string;
  /**
   * What a certificate is issued from: a hash of the enabled backend's settings (name, type, dpCert,
   * conf) and its roots (see fingerprint.ts). A certificate issued under another one is re-issued.
   */
  readonly enabledFp?: string;
  readonly entries: ReadonlyMap<string, BackendEntry>;
  readonly bundlePem: string;
  /** The distinct root PEMs of `bundlePem`, in backend order. */
  readonly roots: readonly string[];
  readonly bundleBackends: string[];
}

export interface MeshChange {
  before: MeshView | undefined;
  after: MeshView;
}

export interface MeshCaCache {
  /** The current view of a mesh, loading it on first use. */
  view(mesh: string): Promise<MeshView>;
  /** The view if loaded, without loading. */
  peek(mesh: string): MeshView | undefined;
  loaded(): string[];
  /** Re-reads the mesh; backends whose config changed, that read `secret`, or that failed before are reopened. */
  refresh(mesh: string, secrets?: ReadonlySet<string>): Promise<MeshChange>;
  close(): Promise<void>;
}

/** How long a replaced backend stays open, so issuances already in flight on it finish. */
const CLOSE_DELAY_MS = 10_000;

export function createMeshCaCache(opts: { env: BackendEnv; open: OpenBackend; log: Logger }): MeshCaCache {
  const views = new Map<string, MeshView>();
  const chains = new Map<string, Promise<unknown>>();
  const retiring = new Set<CaBackend>();
  let closed = false;

  function serial<T>(mesh: string, fn: () => Promise<T>): Promise<T> {
    const run = (chains.get(mesh) ?? Promise.resolve()).then(fn, fn);
    chains.set(
      mesh,
      run.catch(() => {}),
    );
    return run;
  }

  function retire(ca: CaBackend): void {
    retiring.add(ca);
    setTimeout(() => {
      if (retiring.delete(ca)) void ca.close().catch(() => {});
    }, CLOSE_DELAY_MS).unref();
  }

  async function openEntry(mesh: string, backend: MtlsBackend, key: string, previous: BackendEntry | undefined): Promise<BackendEntry> {
    const keptRoots = previous?.key === key ? previous.roots : undefined;
    try {
      const ca = await opts.open(mesh, backend, opts.env);
      try {
        return { key, backend, ca, roots: await ca.roots() };
      } catch (err) {
        await ca.close().catch(() => {});
        throw err;
      }
    } catch (err) {
      const error = `backend "${backend.name}" (${backend.type}) of mesh "${mesh}" is unavailable: ${err instanceof Error ? err.message : String(err)}`;
      opts.log.warn({ mesh, backend: backend.name, err: error }, 'CA backend unavailable');
      return { key, backend, error, ...(keptRoots ? { roots: keptRoots } : {}) };
    }
  }

  async function load(mesh: string, secrets: ReadonlySet<string> | undefined): Promise<MeshChange> {
    const before = views.get(mesh);
    const resource = await opts.env.get({ type: 'Mesh', name: mesh });
    const spec = resource?.spec as MeshSpec | undefined;
    const backends = spec?.mtls?.backends ?? [];
    const entries = new Map<string, BackendEntry>();
    for (const backend of backends) {
      const key = JSON.stringify(backend);
      const old = before?.entries.get(backend.name);
      const reuse = old !== undefined && old.key === key && old.ca !== undefined && !readsAny(mesh, backend, secrets);
      entries.set(backend.name, reuse ? old : await openEntry(mesh, backend, key, old));
    }
    for (const [name, old] of before?.entries ?? []) {
      if (old.ca && entries.get(name) !== old) retire(old.ca);
    }
    const enabledName = spec?.mtls?.enabledBackend;
    const enabled = enabledName === undefined ? undefined : entries.get(enabledName);
    const pems: string[] = [];
    const bundleBackends: string[] = [];
    for (const entry of entries.values()) {
      if (!entry.roots) continue;
      bundleBackends.push(entry.backend.name);
      for (const pem of entry.roots) if (!pems.includes(pem)) pems.push(pem);
    }
    const bundlePem = pems.join('');
    const enabledFp = enabled?.roots ? issuanceFingerprint(enabled.backend, enabled.roots) : undefined;
    const after: MeshView = {
      mesh,
      exists: resource !== undefined,
      entries,
      // Share the previous strings when unchanged: every session holds a reference to them.
      bundlePem: before?.bundlePem === bundlePem ? before.bundlePem : bundlePem,
      roots: before?.bundlePem === bundlePem ? before.roots : pems,
      bundleBackends: before && sameList(before.bundleBackends, bundleBackends) ? before.bundleBackends : bundleBackends,
      ...(enabled ? { enabled } : {}),
      ...(enabledName !== undefined && !enabled ? { enabledMissing: enabledName } : {}),
      ...(enabledFp !== undefined ? { enabledFp } : {}),
    };
    if (closed) {
      for (const e of entries.values()) if (e.ca && before?.entries.get(e.backend.name) !== e) await e.ca.close().catch(() => {});
      return { before, after };
    }
    views.set(mesh, after);
    return { before, after };
  }

  return {
    view(mesh) {
      const v = views.get(mesh);
      if (v) return Promise.resolve(v);
      return serial(mesh, async () => views.get(mesh) ?? (await load(mesh, undefined)).after);
    },
    peek: (mesh) => views.get(mesh),
    loaded: () => [...views.keys()],
    refresh(mesh, secrets) {
      return serial(mesh, () => load(mesh, secrets));
    },
    async close() {
      closed = true;
      await Promise.all([...chains.values()]);
      const all = [...views.values()].flatMap((v) => [...v.entries.values()]).flatMap((e) => (e.ca ? [e.ca] : []));
      views.clear();
      await Promise.all([...all, ...retiring].map((ca) => ca.close().catch(() => {})));
      retiring.clear();
    },
  };
}

/** Whether a backend reads one of these secrets: its builtin CA secrets, or a `secret` data source. */
function readsAny(mesh: string, backend: MtlsBackend, secrets: ReadonlySet<string> | undefined): boolean {
  if (!secrets || secrets.size === 0) return false;
  if (backend.type === 'builtin') {
    const names = builtinSecretNames(mesh, backend.name);
    if (secrets.has(names.cert) || secrets.has(names.key)) return true;
  }
  const conf = JSON.stringify(backend.conf ?? {});
  for (const s of secrets) if (conf.includes(`"secret":${JSON.stringify(s)}`)) return true;
  return false;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// The CAs of each mesh as this zone sees them: opened backends cached per (mesh, backend config),
// reopened when their config or the secrets they read change; its MeshIdentities (mesh-identities.ts),
// MeshTrusts, MeshTLS policies and MeshInsight; and the mesh's trust bundle.
import {
  createsMeshTrust,
  meshIdentitySecretRefs,
  type MeshInsightSpec,
  type MeshSpec,
  type MeshTlsSpec,
  type MtlsBackend,
} from '@meshca/api';
import { builtinSecretNames, type BackendEnv, type CaBackend } from '@meshca/ca';
import type { Resource } from '@meshca/api';
import type { Logger } from '@meshca/common';
import { issuanceFingerprint } from './fingerprint.js';
import type { IssuanceObserver } from './observer.js';
import {
  loadIdentities,
  trustEntries,
  withTrustConditions,
  type IdentityEntry,
  type OpenIdentityCa,
  type TrustEntry,
} from './mesh-identities.js';

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
  /** The mesh's MeshIdentities, by name, as this zone runs them. */
  readonly identities: ReadonlyMap<string, IdentityEntry>;
  /** The mesh's MeshTrusts (global's, other zones', and the ones this zone publishes). */
  readonly trusts: readonly TrustEntry[];
  readonly tls: readonly { name: string; spec: MeshTlsSpec }[];
  /** Global's view of the mesh in every zone; absent until global sent it. */
  readonly insight?: MeshInsightSpec;
  readonly bundlePem: string;
  /** The distinct root PEMs of `bundlePem`: the backends', then the MeshTrusts'. */
  readonly roots: readonly string[];
  /** The backends (by name) and MeshTrusts (by KRI) whose roots are in the bundle. */
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

export function createMeshCaCache(opts: {
  env: BackendEnv;
  open: OpenBackend;
  log: Logger;
  /** Times each root chain read (the zone's metrics). */
  observer?: IssuanceObserver;
  /** This zone's name: identities' trust domains and KRIs carry it. */
  zone?: string;
  /** Opens a MeshIdentity's CA in this zone; without it identities issue nothing. */
  openIdentity?: OpenIdentityCa;
  /** Lists a mesh's resources of a type (the store's list). */
  list?: (type: 'MeshIdentity' | 'MeshTrust' | 'MeshTLS', mesh: string) => Promise<Resource[]>;
}): MeshCaCache {
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
      const ended = opts.observer?.rootsCall({ mesh, backend: backend.name, type: backend.type });
      try {
        const roots = await ca.roots();
        ended?.(true);
        return { key, backend, ca, roots };
      } catch (err) {
        ended?.(false);
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
    const list = opts.list ?? (async () => []);
    const [identityResources, trustResources, tlsResources, insightResource] = await Promise.all([
      list('MeshIdentity', mesh),
      list('MeshTrust', mesh),
      list('MeshTLS', mesh),
      opts.env.get({ type: 'MeshInsight', name: mesh }),
    ]);
    const trusts = trustEntries(mesh, trustResources);
    const loaded = await loadIdentities({
      mesh,
      zone: opts.zone ?? '',
      resources: identityResources,
      previous: before?.identities,
      open: opts.openIdentity ?? (() => Promise.reject(new Error('this zone does not run MeshIdentity providers'))),
      reopen: (name) => {
        const r = identityResources.find((x) => x.meta.name === name);
        return secrets !== undefined && r !== undefined && meshIdentitySecretRefs(r.spec).some((ref) => secrets.has(ref.secret));
      },
      retire,
    });
    const identities = new Map<string, IdentityEntry>();
    for (const [name, entry] of loaded) {
      identities.set(name, withTrustConditions(entry, trusts, createsMeshTrust(entry.spec)));
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
    for (const trust of trusts) {
      bundleBackends.push(trust.kri);
      for (const pem of trust.roots) if (!pems.includes(pem)) pems.push(pem);
    }
    const bundlePem = pems.join('');
    const enabledFp = enabled?.roots ? issuanceFingerprint(enabled.backend, enabled.roots) : undefined;
    const after: MeshView = {
      mesh,
      exists: resource !== undefined,
      entries,
      identities,
      trusts,
      tls: tlsResources.map((r) => ({ name: r.meta.name, spec: r.spec as MeshTlsSpec })),
      ...(insightResource ? { insight: insightResource.spec as MeshInsightSpec } : {}),
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
      for (const e of identities.values()) if (e.ca && before?.identities.get(e.name)?.ca !== e.ca) await e.ca.close().catch(() => {});
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
      const all = [
        ...[...views.values()].flatMap((v) => [...v.entries.values()]).flatMap((e) => (e.ca ? [e.ca] : [])),
        ...[...views.values()].flatMap((v) => [...v.identities.values()]).flatMap((e) => (e.ca ? [e.ca] : [])),
      ];
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

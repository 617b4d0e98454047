// Keeps one MeshInsight per mesh (computeMeshInsight in libs/api): recomputed when a zone reports a
// dataplane, a MeshTrust changes, or a zone connects or drops; written only when it changed, since
// every write goes to every zone. A zone that connected less than settleMs ago counts as settling
// (see ZonesSeen.settling), and the mesh is recomputed once it has settled.
import { certificateFingerprint } from '@meshca/pki';
import {
  computeMeshInsight,
  meshTrustCertificates,
  type InsightInput,
  type MeshTrustSpec,
  type Resource,
  type ZonesSeen,
} from '@meshca/api';
import { canonicalJson, type Logger } from '@meshca/common';
import type { ZoneSeen } from './zones-view.js';
import { NotFoundError, type ResourceStore } from '@meshca/store';

export interface MeshInsights {
  /** A zone connected or dropped: every mesh is recomputed. */
  zonesChanged(): void;
  close(): void;
}

const COALESCE_MS = 200;
const DEFAULT_SETTLE_MS = 10_000;

function fingerprint(pem: string): string | undefined {
  try {
    return certificateFingerprint(pem);
  } catch {
    return undefined;
  }
}

function inputOf(r: Resource): InsightInput {
  const spec = r.spec as { zone?: unknown; connected?: unknown; mTLS?: { issuedBackend?: unknown; trustedCaFingerprints?: unknown } };
  const fps = spec.mTLS?.trustedCaFingerprints;
  return {
    name: r.meta.name,
    zone: typeof spec.zone === 'string' ? spec.zone : (r.meta.labels['kuma.io/zone'] ?? 'unknown'),
    connected: spec.connected === true,
    ...(typeof spec.mTLS?.issuedBackend === 'string' ? { issuedBackend: spec.mTLS.issuedBackend } : {}),
    ...(Array.isArray(fps) ? { trustedCaFingerprints: fps.filter((f): f is string => typeof f === 'string') } : {}),
  };
}

export function startMeshInsights(deps: {
  store: ResourceStore;
  /** Every zone and whether it is online, on this replica or another (zones-view.ts). */
  zones: () => Promise<ZoneSeen[]>;
  log: Logger;
  settleMs?: number;
}): MeshInsights {
  const { store, log } = deps;
  const settleMs = deps.settleMs ?? DEFAULT_SETTLE_MS;
  let settleTimer: NodeJS.Timeout | undefined;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let stop: () => void = () => {};
  let closed = false;

  function queue(mesh: string): void {
    if (closed) return;
    pending.add(mesh);
    timer ??= setTimeout(flush, COALESCE_MS);
  }

  function flush(): void {
    timer = undefined;
    const meshes = [...pending];
    pending.clear();
    running = running.then(async () => {
      for (const mesh of meshes) {
        try {
          await write(mesh);
        } catch (err) {
          log.warn({ mesh, err: err instanceof Error ? err.message : String(err) }, 'computing the MeshInsight failed; retrying');
          setTimeout(() => queue(mesh), 2000).unref();
        }
      }
    });
  }

  async function write(mesh: string): Promise<void> {
    const key = { type: 'MeshInsight' as const, name: mesh };
    const [meshResource, existing] = await Promise.all([store.get({ type: 'Mesh', name: mesh }), store.get(key)]);
    if (!meshResource) {
      if (existing)
        await store
          .delete(key)
          .catch((err: unknown) => void (err instanceof NotFoundError || log.warn({ mesh }, 'removing a MeshInsight failed')));
      return;
    }
    const [insights, trusts] = await Promise.all([store.list('DataplaneInsight', { mesh }), store.list('MeshTrust', { mesh })]);
    const known = trusts.flatMap((t) => meshTrustCertificates(t.spec as MeshTrustSpec).flatMap((pem) => fingerprint(pem) ?? []));
    const spec = computeMeshInsight(insights.map(inputOf), await seenZones(), known);
    if (existing && canonicalJson(existing.spec) === canonicalJson(spec)) return;
    const input = { meta: { type: 'MeshInsight' as const, name: mesh }, spec: spec as unknown as Record<string, unknown> };
    if (existing) await store.update(input, existing.meta.version);
    else await store.create(input);
  }

  /** Online zones, and the ones still settling; recomputes every mesh when the first of those settles. */
  async function seenZones(): Promise<ZonesSeen> {
    const now = Date.now();
    const zones = (await deps.zones()).filter((z) => z.online);
    const settling = new Map<string, number>();
    let next = Infinity;
    for (const z of zones) {
      const since = z.connectedAt === undefined ? Infinity : now - Date.parse(z.connectedAt);
      if (since >= settleMs) continue;
      settling.set(z.zone, Math.floor(since / 1000));
      next = Math.min(next, settleMs - since);
    }
    if (next !== Infinity && !closed) {
      if (settleTimer) clearTimeout(settleTimer);
      settleTimer = setTimeout(() => void all().catch(() => {}), next + 50);
      settleTimer.unref();
    }
    return { online: new Set(zones.map((z) => z.zone)), settling };
  }

  async function start(): Promise<void> {
    const from = await store.revision();
    if (closed) return;
    stop = store.watch(
      from,
      (e) => {
        if (e.key.type === 'Mesh') queue(e.key.name);
        else if ((e.key.type === 'DataplaneInsight' || e.key.type === 'MeshTrust') && e.key.mesh !== undefined) queue(e.key.mesh);
      },
      () => void all().then(start),
    );
    await all();
  }

  async function all(): Promise<void> {
    for (const m of await store.list('Mesh')) queue(m.meta.name);
  }

  void start().catch((err: unknown) => log.error({ err: String(err) }, 'MeshInsight writer could not start'));
  return {
    zonesChanged: () => void all().catch(() => {}),
    close() {
      closed = true;
      stop();
      if (timer) clearTimeout(timer);
      if (settleTimer) clearTimeout(settleTimer);
    },
  };
}

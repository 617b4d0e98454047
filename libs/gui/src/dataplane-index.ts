// Every dataplane of every zone as one row (its DataplaneInsight joined with its Dataplane), built
// once per store revision and then filtered, sorted and paged on the server: the browser is sent
// one page, never all 10,000.
import type { Resource } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import type { DataplaneDetail, DataplanePage, DataplaneRow, DataplaneSort } from './contract.js';

export interface DataplaneQuery {
  mesh?: string;
  zone?: string;
  service?: string;
  backend?: string;
  /** Connected, holding a certificate that expires within this many seconds (or has expired). */
  expiresWithinSeconds?: number;
  /** A part of the name, case-insensitive. */
  q?: string;
  /** Only dataplanes whose last issuance failed. */
  errors?: boolean;
  /** Connected, with less than 1/5 of its certificate's lifetime left (renewal starts by 4/5): late. */
  soon?: boolean;
  sort: DataplaneSort;
  offset: number;
  size: number;
}

interface Entry {
  row: DataplaneRow;
  /** notAfter in ms; Infinity without a certificate. */
  expiresAt: number;
  /** When 1/5 of its lifetime is left (a 24 h lifetime assumed when the issue time is unknown). */
  lateAt: number;
  insight: Resource | undefined;
  dataplane: Resource | undefined;
}

interface Index {
  /** The store's dataset: revisions of another one (a Redis that lost its data) are not comparable. */
  epoch: string;
  revision: number;
  byKey: Map<string, Entry>;
  /** Soonest expiry first, then by mesh and name. */
  byExpiry: Entry[];
  byName: Entry[];
  facets: DataplanePage['facets'];
}

const key = (mesh: string, name: string): string => `${mesh}/${name}`;

const FEED_PAGE = 1000;
/** Past this many changes to catch up on, the index is built again from a listing. */
const MAX_FEED_CATCH_UP = 20_000;
const MAX_SERVICE_FACETS = 1000;

interface InsightSpec {
  zone?: unknown;
  connected?: unknown;
  connectedAt?: unknown;
  disconnectedAt?: unknown;
  mTLS?: {
    issuedBackend?: unknown;
    certificateSerial?: unknown;
    certificateExpirationTime?: unknown;
    lastCertificateRegeneration?: unknown;
    certificateRegenerations?: unknown;
    supportedBackends?: unknown;
    lastError?: { message?: unknown };
    pending?: unknown;
    certificate?: unknown;
  };
}

interface DataplaneSpec {
  networking?: { address?: unknown; inbound?: { tags?: Record<string, unknown> }[]; gateway?: { tags?: Record<string, unknown> } };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function tagsOf(dp: Resource | undefined): Record<string, string[]> {
  const spec = dp?.spec as DataplaneSpec | undefined;
  const out: Record<string, string[]> = {};
  const add = (tags: Record<string, unknown> | undefined) => {
    for (const [k, v] of Object.entries(tags ?? {})) {
      if (typeof v !== 'string') continue;
      const list = (out[k] ??= []);
      if (!list.includes(v)) list.push(v);
    }
  };
  for (const inbound of spec?.networking?.inbound ?? []) add(inbound.tags);
  add(spec?.networking?.gateway?.tags);
  return out;
}

function entryOf(mesh: string, name: string, insight: Resource | undefined, dataplane: Resource | undefined): Entry {
  const spec = (insight?.spec ?? {}) as InsightSpec;
  const mtls = spec.mTLS ?? {};
  const notAfter = str(mtls.certificateExpirationTime);
  const lastError = str(mtls.lastError?.message);
  const row: DataplaneRow = {
    mesh,
    name,
    zone: str(spec.zone) ?? insight?.meta.labels['kuma.io/zone'] ?? dataplane?.meta.labels['kuma.io/zone'] ?? '-',
    service: tagsOf(dataplane)['kuma.io/service']?.join(', ') ?? '-',
    connected: spec.connected === true,
    ...(str(mtls.issuedBackend) !== undefined ? { backend: str(mtls.issuedBackend) as string } : {}),
    ...(str(mtls.certificateSerial) !== undefined ? { serial: str(mtls.certificateSerial) as string } : {}),
    ...(notAfter !== undefined ? { notAfter } : {}),
    ...(lastError !== undefined ? { lastError } : {}),
  };
  const at = notAfter === undefined ? Number.NaN : Date.parse(notAfter);
  const expiresAt = Number.isFinite(at) ? at : Infinity;
  const issued = Date.parse(str(mtls.lastCertificateRegeneration) ?? '');
  const lifetime = Number.isFinite(issued) && issued < expiresAt ? expiresAt - issued : 24 * 3600_000;
  return { row, expiresAt, lateAt: expiresAt - lifetime / 5, insight, dataplane };
}

const byName = (a: Entry, b: Entry): number =>
  a.row.mesh < b.row.mesh ? -1 : a.row.mesh > b.row.mesh ? 1 : a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0;

export interface DataplaneIndex {
  /** `offlineZones`: their rows are marked as last reported. */
  page(query: DataplaneQuery, offlineZones?: ReadonlySet<string>): Promise<DataplanePage>;
  detail(mesh: string, name: string, offlineZones?: ReadonlySet<string>): Promise<DataplaneDetail | undefined>;
  /** Every row (the overview counts them). */
  rows(): Promise<DataplaneRow[]>;
}

export function createDataplaneIndex(store: ResourceStore): DataplaneIndex {
  /** Sorted lists and facets over the entries. */
  function arrange(epoch: string, revision: number, byKey: Map<string, Entry>): Index {
    const all = [...byKey.values()];
    const sorted = (values: Iterable<string>) => [...new Set(values)].filter((v) => v !== '-').sort();
    const services = sorted(all.flatMap((e) => e.row.service.split(', ')));
    return {
      epoch,
      revision,
      byKey,
      byName: [...all].sort(byName),
      byExpiry: [...all].sort((a, b) => a.expiresAt - b.expiresAt || byName(a, b)),
      facets: {
        meshes: sorted(all.map((e) => e.row.mesh)),
        zones: sorted(all.map((e) => e.row.zone)),
        // The service filter is free text; the list only suggests, so it stays bounded.
        services: services.slice(0, MAX_SERVICE_FACETS),
        backends: sorted(all.flatMap((e) => (e.row.backend === undefined ? [] : [e.row.backend]))),
      },
    };
  }

  async function build(): Promise<Index> {
    const [epoch, revision] = await Promise.all([store.epoch(), store.revision()]);
    const [insights, dataplanes] = await Promise.all([store.list('DataplaneInsight'), store.list('Dataplane')]);
    const byKey = new Map<string, Entry>();
    const dps = new Map(dataplanes.map((d) => [key(d.meta.mesh ?? '', d.meta.name), d]));
    for (const i of insights) {
      const k = key(i.meta.mesh ?? '', i.meta.name);
      byKey.set(k, entryOf(i.meta.mesh ?? '', i.meta.name, i, dps.get(k)));
    }
    // A Dataplane whose zone has not reported an insight yet is listed too, without a certificate.
    for (const [k, d] of dps) if (!byKey.has(k)) byKey.set(k, entryOf(d.meta.mesh ?? '', d.meta.name, undefined, d));
    return arrange(epoch, revision, byKey);
  }

  /**
   * The index brought up to date from the store's change feed: only the dataplanes that changed are
   * read again (listing 10,000 insights and Dataplanes at every change took ~400 ms on the event
   * loop). Undefined when the feed no longer reaches back (then the caller rebuilds).
   */
  async function advance(index: Index): Promise<Index | undefined> {
    let at = index.revision;
    const byKey = new Map(index.byKey);
    let touched = false;
    for (let read = 0; read < MAX_FEED_CATCH_UP;) {
      const changes = await store.changesSince(at, FEED_PAGE);
      if (changes === 'compacted') return undefined;
      if (changes.length === 0) break;
      for (const c of changes) {
        at = c.revision;
        if (c.key.type !== 'Dataplane' && c.key.type !== 'DataplaneInsight') continue;
        touched = true;
        const mesh = c.key.mesh ?? '';
        const k = key(mesh, c.key.name);
        const held = byKey.get(k);
        const insight = c.key.type === 'DataplaneInsight' ? c.resource : held?.insight;
        const dataplane = c.key.type === 'Dataplane' ? c.resource : held?.dataplane;
        if (insight === undefined && dataplane === undefined) byKey.delete(k);
        else byKey.set(k, entryOf(mesh, c.key.name, insight, dataplane));
      }
      read += changes.length;
      if (changes.length < FEED_PAGE) break;
    }
    if (at < (await store.revision()) - FEED_PAGE) return undefined; // too far behind: a rebuild is cheaper
    return touched ? arrange(index.epoch, at, byKey) : { ...index, revision: at };
  }

  let index: Index | undefined;
  let refreshing: Promise<Index> | undefined;

  /** The index as of the store's current revision; one refresh at a time, shared by callers. */
  async function current(): Promise<Index> {
    const [epoch, revision] = await Promise.all([store.epoch(), store.revision()]);
    const same = index !== undefined && index.epoch === epoch;
    if (same && index !== undefined && index.revision >= revision) return index;
    refreshing ??= (async () => {
      try {
        index = (same && index !== undefined ? await advance(index) : undefined) ?? (await build());
        return index;
      } finally {
        refreshing = undefined;
      }
    })();
    return refreshing;
  }

  return {
    async page(q, offlineZones) {
      const index = await current();
      const now = Date.now();
      const needle = q.q?.toLowerCase();
      const match = (e: Entry): boolean =>
        (q.mesh === undefined || e.row.mesh === q.mesh) &&
        (q.zone === undefined || e.row.zone === q.zone) &&
        (q.service === undefined || e.row.service.split(', ').includes(q.service)) &&
        (q.backend === undefined || e.row.backend === q.backend) &&
        (needle === undefined || e.row.name.toLowerCase().includes(needle)) &&
        (q.errors !== true || e.row.lastError !== undefined) &&
        (q.soon !== true || (e.row.connected && e.lateAt <= now)) &&
        (q.expiresWithinSeconds === undefined || (e.row.connected && e.expiresAt <= now + q.expiresWithinSeconds * 1000));
      const list = q.sort === 'expiry' ? index.byExpiry : index.byName;
      const items: DataplaneRow[] = [];
      let total = 0;
      for (const e of list) {
        if (!match(e)) continue;
        if (total >= q.offset && items.length < q.size) items.push(offlineZones?.has(e.row.zone) ? { ...e.row, zoneOffline: true } : e.row);
        total++;
      }
      return { total, offset: q.offset, size: q.size, items, facets: index.facets };
    },
    async detail(mesh, name, offlineZones) {
      const e = (await current()).byKey.get(key(mesh, name));
      if (e === undefined) return undefined;
      const spec = (e.insight?.spec ?? {}) as InsightSpec;
      const mtls = spec.mTLS ?? {};
      const address = str((e.dataplane?.spec as DataplaneSpec | undefined)?.networking?.address);
      const trusts = Array.isArray(mtls.supportedBackends) ? mtls.supportedBackends.filter((b): b is string => typeof b === 'string') : [];
      const detail: DataplaneDetail = {
        ...e.row,
        ...(offlineZones?.has(e.row.zone) ? { zoneOffline: true } : {}),
        tags: tagsOf(e.dataplane),
        trusts,
        ...(address !== undefined ? { address } : {}),
        ...(str(spec.connectedAt) !== undefined ? { connectedAt: str(spec.connectedAt) as string } : {}),
        ...(str(spec.disconnectedAt) !== undefined ? { disconnectedAt: str(spec.disconnectedAt) as string } : {}),
        ...(str(mtls.lastCertificateRegeneration) !== undefined
          ? { lastRegeneration: str(mtls.lastCertificateRegeneration) as string }
          : {}),
        ...(typeof mtls.certificateRegenerations === 'number' ? { regenerations: mtls.certificateRegenerations } : {}),
        ...(str(mtls.pending) !== undefined ? { pending: str(mtls.pending) as string } : {}),
        ...(typeof mtls.certificate === 'object' && mtls.certificate !== null
          ? { certificate: mtls.certificate as NonNullable<DataplaneDetail['certificate']> }
          : {}),
      };
      return detail;
    },
    async rows() {
      return (await current()).byName.map((e) => e.row);
    },
  };
}

import type { ResourceType } from '@meshca/api';
import { age, formatTable, shorten, timeLeft } from './output.js';

type Item = Record<string, unknown>;
/** A header and how to fill its cell; `now` keeps AGE and time-left columns stable in tests. */
type Column = [header: string, cell: (item: Item, now: number) => string];

const str = (v: unknown): string => (v === undefined || v === null || v === '' ? '-' : String(v));
const get = (item: Item, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Item)[k] : undefined), item);

const COLUMNS: Partial<Record<ResourceType, Column[]>> = {
  Mesh: [
    ['NAME', (m) => str(m.name)],
    ['MTLS', (m) => str(get(m, 'mtls.enabledBackend') ?? 'off')],
    [
      'BACKENDS',
      (m) => {
        const backends = get(m, 'mtls.backends');
        return Array.isArray(backends) ? backends.map((b: Item) => `${str(b.name)}/${str(b.type)}`).join(',') || '-' : '-';
      },
    ],
    ['AGE', (m, now) => age(m.creationTime, now)],
  ],
  Secret: [
    ['MESH', (s) => str(s.mesh)],
    ['NAME', (s) => str(s.name)],
    ['AGE', (s, now) => age(s.creationTime, now)],
  ],
  GlobalSecret: [
    ['NAME', (s) => str(s.name)],
    ['AGE', (s, now) => age(s.creationTime, now)],
  ],
  Zone: [
    ['NAME', (z) => str(z.name)],
    ['STATUS', (z) => str(get(z, 'status.online') === undefined ? undefined : get(z, 'status.online') ? 'Online' : 'Offline')],
    ['LAST SEEN', (z, now) => age(get(z, 'status.lastSeen'), now)],
    ['ACKED REVISION', (z) => str(get(z, 'status.ackedRevision'))],
    ['LEADER', (z) => str(get(z, 'status.leader'))],
    [
      'NACKS',
      (z) => {
        const nacks = get(z, 'status.nacks');
        return Array.isArray(nacks) && nacks.length > 0 ? nacks.map((n: Item) => `${str(n.revision)}: ${str(n.reason)}`).join('; ') : '-';
      },
    ],
  ],
  Dataplane: [
    ['MESH', (d) => str(d.mesh)],
    ['NAME', (d) => str(d.name)],
    ['ADDRESS', (d) => str(get(d, 'networking.address'))],
    [
      'SERVICES',
      (d) => {
        const inbound = get(d, 'networking.inbound');
        return Array.isArray(inbound)
          ? inbound.map((i: Item) => str((i.tags as Item | undefined)?.['kuma.io/service'])).join(',') || '-'
          : '-';
      },
    ],
    ['AGE', (d, now) => age(d.creationTime, now)],
  ],
  MeshIdentity: [
    ['MESH', (r) => str(r.mesh)],
    ['NAME', (r) => str(r.name)],
    ['PROVIDER', (r) => str(get(r, 'spec.provider.type'))],
    [
      'SELECTOR',
      (r) => {
        const labels = get(r, 'spec.selector.dataplane.matchLabels');
        if (labels === undefined || labels === null) return get(r, 'spec.selector.dataplane') ? 'all' : 'none';
        const pairs = Object.entries(labels as Item).map(([k, v]) => `${k}=${str(v)}`);
        return pairs.length === 0 ? 'all' : pairs.join(',');
      },
    ],
    ['TRUST DOMAIN', (r) => str(get(r, 'spec.spiffeID.trustDomain') ?? '{{ .Mesh }}.{{ .Zone }}.mesh.local')],
    ['READY', (r) => conditionCell(r, 'Ready')],
    ['AGE', (r, now) => age(r.creationTime, now)],
  ],
  MeshTrust: [
    ['MESH', (r) => str(r.mesh)],
    ['NAME', (r) => str(r.name)],
    ['TRUST DOMAIN', (r) => str(get(r, 'spec.trustDomain'))],
    ['ZONE', (r) => str((r.labels as Item | undefined)?.['kuma.io/zone'] ?? 'global')],
    ['CAS', (r) => str((get(r, 'spec.caBundles') as unknown[] | undefined)?.length)],
    ['ORIGIN', (r) => str(get(r, 'status.origin.kri'))],
    ['AGE', (r, now) => age(r.creationTime, now)],
  ],
  MeshTLS: [
    ['MESH', (r) => str(r.mesh)],
    ['NAME', (r) => str(r.name)],
    [
      'TARGET',
      (r) => {
        const kind = str(get(r, 'spec.targetRef.kind') ?? 'Mesh');
        const labels = get(r, 'spec.targetRef.labels') ?? get(r, 'spec.targetRef.tags');
        const pairs = labels ? Object.entries(labels as Item).map(([k, v]) => `${k}=${str(v)}`) : [];
        return pairs.length ? `${kind}(${pairs.join(',')})` : kind;
      },
    ],
    [
      'MODE',
      (r) => {
        const rules = [...((get(r, 'spec.rules') as Item[] | undefined) ?? []), ...((get(r, 'spec.from') as Item[] | undefined) ?? [])];
        return str(rules.map((x) => get(x, 'default.mode')).find((m) => m !== undefined));
      },
    ],
    ['AGE', (r, now) => age(r.creationTime, now)],
  ],
  MeshInsight: [
    ['MESH', (r) => str(r.name)],
    ['DATAPLANES', (r) => `${str(get(r, 'dataplanes.online'))}/${str(get(r, 'dataplanes.total'))}`],
    ['TRUSTED CAS', (r) => str((get(r, 'mTLS.trustedEverywhere') as unknown[] | undefined)?.length)],
    ['PENDING', (r) => str(get(r, 'mTLS.pending'))],
  ],
  // As kumactl's `inspect dataplanes`: where it runs, whether it is connected, and its certificate.
  DataplaneInsight: [
    ['MESH', (i) => str(i.mesh)],
    ['NAME', (i) => str(i.name)],
    ['ZONE', (i) => str(typeof i.zone === 'string' ? i.zone : (i.labels as Item | undefined)?.['kuma.io/zone'])],
    ['CONNECTED', (i) => (i.connected === true ? 'yes' : i.connected === false ? 'no' : '-')],
    ['BACKEND', (i) => str(get(i, 'mTLS.issuedBackend'))],
    [
      'SERIAL',
      (i) => {
        const serial = get(i, 'mTLS.certificateSerial');
        return typeof serial === 'string' && serial !== '' ? shorten(serial, 10) : '-';
      },
    ],
    ['EXPIRES IN', (i, now) => timeLeft(get(i, 'mTLS.certificateExpirationTime'), now)],
    [
      'LAST ERROR',
      (i) => {
        // Zones report `{ message, at }`; a plain text is read too.
        const error = get(i, 'mTLS.lastError');
        const message = typeof error === 'string' ? error : get(i, 'mTLS.lastError.message');
        return typeof message === 'string' && message !== '' ? shorten(message, 40) : '-';
      },
    ],
  ],
};

/** A condition of a status, as `True`/`False (reason)`. */
function conditionCell(r: Item, type: string): string {
  const conditions = get(r, 'status.conditions');
  if (!Array.isArray(conditions)) return '-';
  const c = (conditions as Item[]).find((x) => x.type === type);
  if (!c) return '-';
  return c.status === 'True' ? 'True' : `${str(c.status)} (${str(c.reason)})`;
}

export function columnsFor(type: ResourceType): Column[] {
  return (
    COLUMNS[type] ?? [
      ['NAME', (r) => str(r.name)],
      ['MESH', (r) => str(r.mesh)],
      ['AGE', (r, now) => age(r.creationTime, now)],
    ]
  );
}

/** The table `meshctl get TYPE [NAME]` prints for these resources. */
export function renderResources(type: ResourceType, items: Item[], now: number = Date.now()): string {
  const cols = columnsFor(type);
  return formatTable(
    cols.map(([h]) => h),
    items.map((item) => cols.map(([, cell]) => cell(item, now))),
  );
}

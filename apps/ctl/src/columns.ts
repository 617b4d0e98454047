import type { ResourceType } from '@meshca/api';
import { age } from './output.js';

type Item = Record<string, unknown>;
type Column = [header: string, cell: (item: Item) => string];

const str = (v: unknown): string => (v === undefined || v === null || v === '' ? '-' : String(v));
const get = (item: Item, path: string): unknown =>
  path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Item)[k] : undefined), item);

const COLUMNS: Partial<Record<ResourceType, Column[]>> = {
  Mesh: [
    ['NAME', (m) => str(m.name)],
    ['MTLS', (m) => str(get(m, 'mtls.enabledBackend') ?? 'off')],
    ['BACKENDS', (m) => {
      const backends = get(m, 'mtls.backends');
      return Array.isArray(backends) ? backends.map((b: Item) => `${str(b.name)}/${str(b.type)}`).join(',') || '-' : '-';
    }],
    ['AGE', (m) => age(m.creationTime)],
  ],
  Secret: [['MESH', (s) => str(s.mesh)], ['NAME', (s) => str(s.name)], ['AGE', (s) => age(s.creationTime)]],
  GlobalSecret: [['NAME', (s) => str(s.name)], ['AGE', (s) => age(s.creationTime)]],
  Zone: [
    ['NAME', (z) => str(z.name)],
    ['STATUS', (z) => str(get(z, 'status.online') === undefined ? undefined : get(z, 'status.online') ? 'Online' : 'Offline')],
    ['LAST SEEN', (z) => age(get(z, 'status.lastSeen'))],
    ['ACKED REVISION', (z) => str(get(z, 'status.ackedRevision'))],
    ['NACKS', (z) => {
      const nacks = get(z, 'status.nacks');
      return Array.isArray(nacks) && nacks.length > 0 ? nacks.map((n: Item) => `${str(n.revision)}: ${str(n.reason)}`).join('; ') : '-';
    }],
  ],
  Dataplane: [
    ['MESH', (d) => str(d.mesh)],
    ['NAME', (d) => str(d.name)],
    ['ADDRESS', (d) => str(get(d, 'networking.address'))],
    ['SERVICES', (d) => {
      const inbound = get(d, 'networking.inbound');
      return Array.isArray(inbound) ? inbound.map((i: Item) => str((i.tags as Item | undefined)?.['kuma.io/service'])).join(',') : '-';
    }],
    ['AGE', (d) => age(d.creationTime)],
  ],
};

export function columnsFor(type: ResourceType): Column[] {
  return COLUMNS[type] ?? [['NAME', (r) => str(r.name)], ['MESH', (r) => str(r.mesh)], ['AGE', (r) => age(r.creationTime)]];
}

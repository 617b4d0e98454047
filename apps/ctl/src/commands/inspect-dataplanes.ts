// `meshctl inspect dataplanes [--mesh M]`: the certificate view of every dataplane in every zone,
// as kumactl inspect dataplanes shows it: where it runs, which service, which backend issued its
// certificate, the serial, notAfter and time left, and the last error.
import type { ApiClient } from '../client.js';
import { listAll } from '../paging.js';
import { printStructured, printTable, timeLeft, type OutputFormat } from '../output.js';

interface Item {
  mesh?: string;
  name: string;
  labels?: Record<string, string>;
  zone?: string;
  connected?: boolean;
  networking?: { inbound?: { tags?: Record<string, string> }[]; gateway?: { tags?: Record<string, string> } };
  mTLS?: {
    issuedBackend?: string;
    certificateSerial?: string;
    certificateExpirationTime?: string;
    lastError?: { message?: string } | string;
  };
}

export interface DataplaneRow {
  mesh: string;
  name: string;
  zone: string;
  connected: boolean | undefined;
  services: string[];
  backend: string | undefined;
  serial: string | undefined;
  notAfter: string | undefined;
  lastError: string | undefined;
  /** Its zone is offline: the row is what the zone reported last. */
  zoneOffline?: boolean;
}

/** Dataplanes joined with their insights (by mesh and name), sorted by mesh then name. */
export function dataplaneRows(dataplanes: Item[], insights: Item[], offlineZones: ReadonlySet<string> = new Set()): DataplaneRow[] {
  const key = (i: Item) => `${i.mesh ?? ''}/${i.name}`;
  const byKey = new Map(insights.map((i) => [key(i), i]));
  const rows = new Map<string, DataplaneRow>();
  for (const d of [...dataplanes, ...insights]) {
    if (rows.has(key(d))) continue;
    const dp = dataplanes.find((x) => key(x) === key(d));
    const insight = byKey.get(key(d));
    const tags = [...(dp?.networking?.inbound ?? []).map((i) => i.tags ?? {}), dp?.networking?.gateway?.tags ?? {}];
    const error = insight?.mTLS?.lastError;
    rows.set(key(d), {
      mesh: d.mesh ?? '',
      name: d.name,
      zone: insight?.zone ?? d.labels?.['kuma.io/zone'] ?? '-',
      connected: insight?.connected,
      services: [...new Set(tags.map((t) => t['kuma.io/service']).filter((s): s is string => s !== undefined))],
      backend: insight?.mTLS?.issuedBackend,
      serial: insight?.mTLS?.certificateSerial,
      notAfter: insight?.mTLS?.certificateExpirationTime,
      lastError: typeof error === 'string' ? error : error?.message,
    });
    const row = rows.get(key(d));
    if (row !== undefined && offlineZones.has(row.zone)) row.zoneOffline = true;
  }
  return [...rows.values()].sort((a, b) => (a.mesh === b.mesh ? (a.name < b.name ? -1 : 1) : a.mesh < b.mesh ? -1 : 1));
}

export function renderDataplaneRows(rows: DataplaneRow[], now: number): { headers: string[]; cells: string[][] } {
  return {
    headers: ['MESH', 'NAME', 'ZONE', 'CONNECTED', 'SERVICE', 'BACKEND', 'SERIAL', 'NOT AFTER', 'TIME LEFT', 'LAST ERROR'],
    cells: rows.map((r) => [
      r.mesh,
      r.name,
      r.zone,
      r.zoneOffline === true ? 'unknown (zone offline)' : r.connected === undefined ? '-' : r.connected ? 'yes' : 'no',
      r.services.join(',') || '-',
      r.backend ?? '-',
      r.serial === undefined ? '-' : r.serial.length > 10 ? `${r.serial.slice(0, 8)}..` : r.serial,
      r.notAfter === undefined ? '-' : r.notAfter.replace(/\.\d{3}Z$/, 'Z'),
      timeLeft(r.notAfter, now),
      r.lastError === undefined ? '-' : r.lastError.length > 40 ? `${r.lastError.slice(0, 38)}..` : r.lastError,
    ]),
  };
}

export async function inspectDataplanes(client: ApiClient, flags: { output: OutputFormat; mesh?: string }): Promise<void> {
  const base = flags.mesh === undefined ? '' : `/meshes/${encodeURIComponent(flags.mesh)}`;
  const [dataplanes, insights, zones] = await Promise.all([
    listAll<Item>(client, `${base}/dataplanes?size=1000`),
    listAll<Item>(client, `${flags.mesh === undefined ? '' : base}/dataplane-insights?size=1000`),
    // On global: zones offline now (a zone's own API has no /zones: nothing is offline there).
    listAll<{ name: string; status?: { online?: boolean } }>(client, '/zones').catch(() => []),
  ]);
  const offline = new Set(zones.filter((z) => z.status?.online === false).map((z) => z.name));
  const rows = dataplaneRows(dataplanes, insights, offline);
  if (flags.output !== 'table') return printStructured({ items: rows }, flags.output);
  const { headers, cells } = renderDataplaneRows(rows, Date.now());
  printTable(headers, cells);
}

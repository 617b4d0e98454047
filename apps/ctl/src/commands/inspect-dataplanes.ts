// `meshctl inspect dataplanes [--mesh M]`: the certificate view of every dataplane in every zone,
// as kumactl inspect dataplanes shows it: where it runs, which service, which backend issued its
// certificate, the serial, notAfter and time left, and the last error.
import type { ApiClient } from '../client.js';
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
}

/** Dataplanes joined with their insights (by mesh and name), sorted by mesh then name. */
export function dataplaneRows(dataplanes: Item[], insights: Item[]): DataplaneRow[] {
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
      r.connected === undefined ? '-' : r.connected ? 'yes' : 'no',
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
  const [dataplanes, insights] = await Promise.all([
    client.call<{ items: Item[] }>('GET', `${base}/dataplanes`),
    client.call<{ items: Item[] }>('GET', flags.mesh === undefined ? '/dataplane-insights' : `${base}/dataplane-insights`),
  ]);
  const rows = dataplaneRows(dataplanes.body.items, insights.body.items);
  if (flags.output !== 'table') return printStructured({ items: rows }, flags.output);
  const { headers, cells } = renderDataplaneRows(rows, Date.now());
  printTable(headers, cells);
}

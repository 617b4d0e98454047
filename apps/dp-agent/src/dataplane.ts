// The Dataplane this agent registers: from a Universal dp.yaml, or from --name/--mesh/--address/--inbound.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import type { DataplaneDocument } from '@meshca/dp-protocol';

/** `port=8080,kuma.io/service=web,version=v1` (also `servicePort=`), one per inbound. */
export function parseInbound(text: string): NonNullable<DataplaneDocument['networking']['inbound']>[number] {
  let port: number | undefined;
  let servicePort: number | undefined;
  const tags: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--inbound "${text}": "${part}" is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 'port' || key === 'servicePort') {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`--inbound "${text}": ${key} must be a port number (1-65535)`);
      if (key === 'port') port = n;
      else servicePort = n;
    } else {
      tags[key] = value;
    }
  }
  if (port === undefined) throw new Error(`--inbound "${text}": port=<number> is required`);
  if (!tags['kuma.io/service']) throw new Error(`--inbound "${text}": kuma.io/service=<service> is required`);
  return { port, ...(servicePort !== undefined ? { servicePort } : {}), tags };
}

export function dataplaneFromFlags(f: { name?: string; mesh?: string; address?: string; inbound?: string[] }): DataplaneDocument {
  const missing = (['name', 'address'] as const).filter((k) => !f[k]);
  if (missing.length > 0 || !f.inbound?.length) {
    throw new Error(
      `give --dataplane-file, or --name, --address and at least one --inbound (missing: ${[...missing.map((m) => `--${m}`), ...(f.inbound?.length ? [] : ['--inbound'])].join(', ')})`,
    );
  }
  return {
    type: 'Dataplane',
    mesh: f.mesh ?? 'default',
    name: f.name as string,
    networking: { address: f.address as string, inbound: f.inbound.map(parseInbound) },
  };
}

/** A Universal Dataplane document (`type: Dataplane`, `mesh`, `name`, `networking`). */
export async function readDataplaneFile(path: string): Promise<DataplaneDocument> {
  const doc: unknown = parse(await readFile(path, 'utf8'));
  if (typeof doc !== 'object' || doc === null) throw new Error(`${path}: not a YAML mapping`);
  const d = doc as Record<string, unknown>;
  if (d.type !== undefined && d.type !== 'Dataplane') throw new Error(`${path}: type must be Dataplane (got ${String(d.type)})`);
  if (typeof d.name !== 'string') throw new Error(`${path}: name is required`);
  if (typeof d.networking !== 'object' || d.networking === null)
    throw new Error(`${path}: networking (address, and inbound or gateway) is required`);
  const labels = d.labels;
  if (labels !== undefined && (typeof labels !== 'object' || labels === null || Object.values(labels).some((v) => typeof v !== 'string'))) {
    throw new Error(`${path}: labels must be a mapping of names to text values`);
  }
  return {
    type: 'Dataplane',
    mesh: typeof d.mesh === 'string' ? d.mesh : 'default',
    name: d.name,
    ...(labels === undefined ? {} : { labels: labels as Record<string, string> }),
    networking: d.networking as DataplaneDocument['networking'],
  };
}

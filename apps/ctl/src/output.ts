import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'yaml' | 'json';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'yaml' || value === 'json') return value;
  throw new Error(`output format "${value}" is not known; use table, yaml or json`);
}

export function printStructured(value: unknown, format: 'yaml' | 'json'): void {
  process.stdout.write(format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value));
}

/** A plain aligned table, as kubectl and kumactl print. */
export function printTable(headers: string[], rows: string[][]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('   ').trimEnd();
  process.stdout.write([line(headers), ...rows.map(line)].join('\n') + '\n');
}

export function age(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

import { stringify } from 'yaml';

export type OutputFormat = 'table' | 'yaml' | 'json';

export function parseFormat(value: string): OutputFormat {
  if (value === 'table' || value === 'yaml' || value === 'json') return value;
  throw new Error(`output format "${value}" is not known; use table, yaml or json`);
}

export function formatStructured(value: unknown, format: 'yaml' | 'json'): string {
  return format === 'json' ? JSON.stringify(value, null, 2) + '\n' : stringify(value);
}

export function printStructured(value: unknown, format: 'yaml' | 'json'): void {
  process.stdout.write(formatStructured(value, format));
}

/** A plain aligned table, as kubectl and kumactl print. */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

export function printTable(headers: string[], rows: string[][]): void {
  process.stdout.write(formatTable(headers, rows));
}

/** How long ago `iso` was, in one unit: 45s, 12m, 5h, 3d. */
export function age(iso: unknown, now = Date.now()): string {
  if (typeof iso !== 'string') return '-';
  const s = Math.max(0, Math.floor((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** How long until `iso`, in two units (23h59m, 4m10s, 89d23h), or `expired`. */
export function timeLeft(iso: unknown, now = Date.now()): string {
  const at = typeof iso === 'string' ? Date.parse(iso) : NaN;
  if (!Number.isFinite(at)) return '-';
  const s = Math.floor((at - now) / 1000);
  if (s <= 0) return 'expired';
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s % 60}s`;
  return `${s}s`;
}

/** At most `max` characters: longer text keeps its start and ends in `..`. */
export function shorten(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, Math.max(1, max - 2))}..`;
}

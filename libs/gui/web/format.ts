// Times as people read them: "23h 59m left", "3 min ago".

export function duration(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** "23h 59m" or "expired 5m ago". */
export function timeLeft(notAfter: string | undefined, now = Date.now()): string {
  if (notAfter === undefined) return '-';
  const left = Date.parse(notAfter) - now;
  return left <= 0 ? `expired ${duration(left)} ago` : duration(left);
}

export function ago(iso: string | undefined, now = Date.now()): string {
  if (iso === undefined) return '-';
  return `${duration(now - Date.parse(iso))} ago`;
}

export function when(iso: string | undefined): string {
  return iso === undefined
    ? '-'
    : new Date(iso)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
}

/** Short, for tables: the first 8 hex digits. */
export const shortHex = (hex: string | undefined): string => (hex === undefined ? '-' : hex.length > 12 ? `${hex.slice(0, 8)}…` : hex);

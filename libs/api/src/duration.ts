// Durations as Kuma and Go write them (`24h`, `1h30m`, `500ms`), plus `d` and `y`, which Kuma's
// documentation uses (`expiration: 1d`, `10y`) even though Go's time.ParseDuration does not.

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  μs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 7 * 86400,
  y: 365 * 86400,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d|w|y)/y;
const EXAMPLES = 'like 90s, 10m, 24h, 1d, 1h30m or 10y (units: ms, s, m, h, d, w, y)';

/** Seconds in `s` (may be fractional). Throws an Error whose message says how to write one. */
export function parseDuration(s: string): number {
  const text = s.trim();
  const shown = JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
  if (text === '') throw new Error(`is empty; write a duration ${EXAMPLES}`);
  if (text.startsWith('-')) throw new Error(`${shown} is negative; write a positive duration ${EXAMPLES}`);
  const body = text.startsWith('+') ? text.slice(1) : text;
  if (body === '0') return 0;
  if (/^\d+(\.\d+)?$/.test(body)) throw new Error(`${shown} has no unit; write a duration ${EXAMPLES}`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < body.length) {
    const start = PART.lastIndex;
    const m = PART.exec(body);
    if (!m || m.index !== start) throw new Error(`${shown} is not a duration; write it ${EXAMPLES}`);
    total += Number(m[1]) * UNIT_SECONDS[m[2]!]!;
  }
  if (!Number.isFinite(total)) throw new Error(`${shown} is too long; write a shorter duration ${EXAMPLES}`);
  return total;
}

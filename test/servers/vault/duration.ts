import { badRequest } from './errors.js';

const UNIT_SECONDS: Record<string, number> = {
  ns: 1e-9,
  us: 1e-6,
  µs: 1e-6,
  ms: 1e-3,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
};

/**
 * Vault's parseutil.ParseDurationSecond: a number (or numeric string) is seconds,
 * otherwise a Go duration ("720h", "1h30m") plus Vault's extra "d" suffix.
 * Returns whole seconds.
 */
export function parseDurationSeconds(field: string, input: unknown): number {
  if (input === undefined || input === null || input === '') return 0;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw conversionError(field, input, 'not a number');
    return Math.trunc(input);
  }
  if (typeof input !== 'string') throw conversionError(field, input, 'expected a string or number');
  const text = input.trim();
  if (/^-?\d+$/.test(text)) return Number.parseInt(text, 10);
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number.parseFloat(m[1] ?? '0') * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
    consumed = re.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) {
    throw conversionError(field, input, `time: invalid duration ${JSON.stringify(text)}`);
  }
  return Math.trunc(total);
}

function conversionError(field: string, input: unknown, why: string) {
  return badRequest(`error converting input ${String(input)} for field ${JSON.stringify(field)}: ${why}`);
}

/** Go's time.Duration.String() for whole seconds, e.g. 2592000 -> "720h0m0s". */
export function goDuration(seconds: number): string {
  if (seconds === 0) return '0s';
  const sign = seconds < 0 ? '-' : '';
  let s = Math.abs(Math.trunc(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${sign}${h}h${m}m${s}s`;
  if (m > 0) return `${sign}${m}m${s}s`;
  return `${sign}${s}s`;
}

/** Vault's humanDuration: Go's form without trailing zero units ("768h", "1h30m"). */
export function humanDuration(seconds: number): string {
  let out = goDuration(seconds);
  if (out.endsWith('m0s')) out = out.slice(0, -2);
  if (out.endsWith('h0m')) out = out.slice(0, -2);
  return out;
}

import { invalidArgs, validation } from './errors.js';

const TYPES = ['END_DATE', 'ABSOLUTE', 'DAYS', 'MONTHS', 'YEARS'];

function endDate(value: number): Date {
  // UTCTime YYMMDDHHMMSS (YY >= 50 → 19YY) or GeneralizedTime YYYYMMDDHHMMSS.
  const s = String(value);
  let year: number;
  let rest: string;
  if (s.length === 12) {
    const yy = Number(s.slice(0, 2));
    year = yy >= 50 ? 1900 + yy : 2000 + yy;
    rest = s.slice(2);
  } else if (s.length === 14) {
    year = Number(s.slice(0, 4));
    rest = s.slice(4);
  } else {
    throw invalidArgs(`END_DATE validity ${s} must be YYMMDDHHMMSS or YYYYMMDDHHMMSS.`);
  }
  const [mo, d, h, mi, se] = [0, 2, 4, 6, 8].map((i) => Number(rest.slice(i, i + 2))) as [number, number, number, number, number];
  const date = new Date(Date.UTC(year, mo - 1, d, h, mi, se));
  if (Number.isNaN(date.getTime()) || date.getUTCMonth() !== mo - 1) throw invalidArgs(`END_DATE validity ${s} is not a valid date.`);
  return date;
}

function addMonths(from: Date, months: number): Date {
  const d = new Date(from.getTime());
  d.setUTCMonth(d.getUTCMonth() + months);
  return d;
}

/** Computes notAfter from IssueCertificate's Validity (see the Validity data type). */
export function notAfterFrom(validity: unknown, issuedAt: Date): Date {
  if (typeof validity !== 'object' || validity === null) throw validation('validity', 'null', 'Member must not be null');
  const { Value, Type } = validity as { Value?: unknown; Type?: unknown };
  if (typeof Type !== 'string' || !TYPES.includes(Type)) {
    throw validation('validity.type', Type ?? 'null', `Member must satisfy enum value set: [${TYPES.join(', ')}]`);
  }
  if (typeof Value !== 'number' || !Number.isInteger(Value)) throw validation('validity.value', Value ?? 'null', 'Member must not be null');
  if (Value < 1) throw validation('validity.value', Value, 'Member must have value greater than or equal to 1');
  switch (Type) {
    case 'END_DATE':
      return endDate(Value);
    case 'ABSOLUTE':
      return new Date(Value * 1000);
    case 'DAYS':
      return new Date(issuedAt.getTime() + Value * 86_400_000);
    case 'MONTHS':
      return addMonths(issuedAt, Value);
    default:
      return addMonths(issuedAt, Value * 12);
  }
}

/** ValidityNotBefore accepts only ABSOLUTE; without it AWS back-dates by 60 minutes. */
export function notBeforeFrom(validity: unknown, issuedAt: Date): Date {
  if (validity === undefined || validity === null) return new Date(issuedAt.getTime() - 60 * 60_000);
  const { Value, Type } = validity as { Value?: unknown; Type?: unknown };
  if (Type !== 'ABSOLUTE' || typeof Value !== 'number') {
    throw invalidArgs('ValidityNotBefore must use the ABSOLUTE validity type.');
  }
  return new Date(Value * 1000);
}

// A small DER encoder and reader: just what certificates, CSRs and keys need.
// Hand-written so the issuance hot path concatenates prepared byte strings instead of
// building an ASN.1 object tree for every certificate.

export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

function lengthBytes(length: number): number {
  if (length < 0x80) return 1;
  if (length < 0x100) return 2;
  if (length < 0x10000) return 3;
  if (length < 0x1000000) return 4;
  return 5;
}

function writeHeader(out: Buffer, offset: number, tag: number, length: number): number {
  out[offset++] = tag;
  if (length < 0x80) {
    out[offset++] = length;
    return offset;
  }
  const n = lengthBytes(length) - 1;
  out[offset++] = 0x80 | n;
  for (let i = n - 1; i >= 0; i--) out[offset++] = (length >>> (8 * i)) & 0xff;
  return offset;
}

/** One TLV whose content is the concatenation of `parts`; allocates once. */
export function tlv(tag: number, ...parts: Uint8Array[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = Buffer.allocUnsafe(1 + lengthBytes(length) + length);
  let offset = writeHeader(out, 0, tag, length);
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

export const seq = (...parts: Uint8Array[]): Buffer => tlv(TAG.SEQUENCE, ...parts);
export const set = (...parts: Uint8Array[]): Buffer => tlv(TAG.SET, ...parts);
/** Context-specific constructed tag [n] (EXPLICIT, or IMPLICIT for constructed types). */
export const ctx = (n: number, ...parts: Uint8Array[]): Buffer => tlv(0xa0 | n, ...parts);
/** Context-specific primitive tag [n] (IMPLICIT on a primitive type, e.g. GeneralName uri). */
export const ctxPrimitive = (n: number, content: Uint8Array): Buffer => tlv(0x80 | n, content);
export const octetString = (content: Uint8Array): Buffer => tlv(TAG.OCTET_STRING, content);
export const bitString = (content: Uint8Array, unusedBits = 0): Buffer => tlv(TAG.BIT_STRING, Uint8Array.of(unusedBits), content);
export const boolean = (value: boolean): Buffer => Buffer.from([TAG.BOOLEAN, 1, value ? 0xff : 0]);
export const nullDer = (): Buffer => Buffer.from([TAG.NULL, 0]);
export const utf8String = (s: string): Buffer => tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
export const ia5String = (s: string): Buffer => tlv(TAG.IA5_STRING, Buffer.from(s, 'ascii'));

/** INTEGER from unsigned big-endian magnitude bytes: strips leading zeros, adds one if the top bit is set. */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  if (body.length === 0) return Buffer.from([TAG.INTEGER, 1, 0]);
  return (body[0] ?? 0) & 0x80 ? tlv(TAG.INTEGER, Uint8Array.of(0), body) : tlv(TAG.INTEGER, body);
}

export function smallInteger(value: number): Buffer {
  if (!Number.isInteger(value) || value < 0 || value > 0x7fffffff) throw new RangeError(`integer out of range: ${value}`);
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.unshift(v & 0xff);
    v = Math.floor(v / 256);
  } while (v > 0);
  return unsignedInteger(Uint8Array.from(bytes));
}

const oidCache = new Map<string, Buffer>();

export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => Number(a));
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new Error(`invalid OID ${dotted}`);
  const bytes: number[] = [];
  const pushArc = (arc: number): void => {
    const chunk: number[] = [arc & 0x7f];
    let v = Math.floor(arc / 128);
    while (v > 0) {
      chunk.unshift((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    bytes.push(...chunk);
  };
  pushArc((arcs[0] ?? 0) * 40 + (arcs[1] ?? 0));
  for (const arc of arcs.slice(2)) pushArc(arc);
  const der = tlv(TAG.OID, Uint8Array.from(bytes));
  oidCache.set(dotted, der);
  return der;
}

export function decodeOid(content: Uint8Array): string {
  const arcs: number[] = [];
  let value = 0;
  for (const byte of content) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 80 ? Math.floor(value / 40) : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    }
  }
  return arcs.join('.');
}

const pad2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; always whole seconds in UTC. */
export function time(date: Date): Buffer {
  const year = date.getUTCFullYear();
  const rest =
    pad2(date.getUTCMonth() + 1) +
    pad2(date.getUTCDate()) +
    pad2(date.getUTCHours()) +
    pad2(date.getUTCMinutes()) +
    pad2(date.getUTCSeconds()) +
    'Z';
  if (year >= 1950 && year < 2050) return tlv(TAG.UTC_TIME, Buffer.from(pad2(year % 100) + rest, 'ascii'));
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(String(year).padStart(4, '0') + rest, 'ascii'));
}

// ---- reader

export interface Tlv {
  tag: number;
  /** Offset of the tag byte. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset just past the content. */
  end: number;
}

export class DerError extends Error {
  override name = 'DerError';
}

export function readTlv(buf: Uint8Array, offset: number, limit = buf.length): Tlv {
  if (offset + 2 > limit) throw new DerError('truncated DER');
  const tag = buf[offset] ?? 0;
  if ((tag & 0x1f) === 0x1f) throw new DerError('multi-byte DER tags are not supported');
  let pos = offset + 1;
  const first = buf[pos++] ?? 0;
  let length = first;
  if (first & 0x80) {
    const n = first & 0x7f;
    if (n === 0 || n > 4) throw new DerError('unsupported DER length');
    length = 0;
    for (let i = 0; i < n; i++) {
      if (pos >= limit) throw new DerError('truncated DER');
      length = length * 256 + (buf[pos++] ?? 0);
    }
  }
  const end = pos + length;
  if (end > limit) throw new DerError('DER length runs past its container');
  return { tag, start: offset, contentStart: pos, end };
}

/** The TLVs directly inside a constructed TLV. */
export function children(buf: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  let pos = parent.contentStart;
  while (pos < parent.end) {
    const child = readTlv(buf, pos, parent.end);
    out.push(child);
    pos = child.end;
  }
  return out;
}

export const content = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.contentStart, t.end);
export const whole = (buf: Uint8Array, t: Tlv): Uint8Array => buf.subarray(t.start, t.end);

export function expectTag(t: Tlv | undefined, tag: number, what: string): Tlv {
  if (!t || t.tag !== tag) throw new DerError(`${what}: expected tag 0x${tag.toString(16)}`);
  return t;
}

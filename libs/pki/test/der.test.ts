import { describe, expect, it } from 'vitest';
import { decodeOid, oid, readTlv, smallInteger, time, tlv, unsignedInteger } from '../src/der.js';
import { decodeTime } from '../src/x509.js';

describe('DER encoder', () => {
  it('encodes OIDs the way the standards print them and decodes them back', () => {
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(oid('2.5.29.17').toString('hex')).toBe('0603551d11');
    for (const dotted of ['1.2.840.113549.1.9.14', '1.3.6.1.5.5.7.3.2', '2.999.3']) {
      const der = oid(dotted);
      expect(decodeOid(der.subarray(2))).toBe(dotted);
    }
  });

  it('writes long-form lengths and reads them back', () => {
    for (const size of [0, 127, 128, 255, 256, 70_000]) {
      const der = tlv(0x04, Buffer.alloc(size, 7));
      const t = readTlv(der, 0);
      expect(t.end - t.contentStart).toBe(size);
      expect(t.end).toBe(der.length);
    }
  });

  it('keeps INTEGERs minimal and positive', () => {
    expect(unsignedInteger(Uint8Array.of(0, 0, 5)).toString('hex')).toBe('020105');
    expect(unsignedInteger(Uint8Array.of(0x80)).toString('hex')).toBe('02020080');
    expect(smallInteger(0).toString('hex')).toBe('020100');
    expect(smallInteger(256).toString('hex')).toBe('02020100');
  });

  it('uses UTCTime through 2049 and GeneralizedTime from 2050 (RFC 5280)', () => {
    const a = new Date(Date.UTC(2049, 11, 31, 23, 59, 59, 999));
    const b = new Date(Date.UTC(2050, 0, 1, 0, 0, 0));
    expect(time(a).subarray(2).toString('ascii')).toBe('491231235959Z');
    expect(time(a)[0]).toBe(0x17);
    expect(time(b).subarray(2).toString('ascii')).toBe('20500101000000Z');
    expect(time(b)[0]).toBe(0x18);
    expect(decodeTime(time(b), readTlv(time(b), 0)).toISOString()).toBe(b.toISOString());
    expect(decodeTime(time(a), readTlv(time(a), 0)).toISOString()).toBe('2049-12-31T23:59:59.000Z');
  });

  it('refuses a length that runs past its container', () => {
    expect(() => readTlv(Buffer.from('3005020101', 'hex'), 0)).toThrow(/runs past/);
  });
});

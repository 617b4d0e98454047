import { describe, expect, it } from 'vitest';
import { parseDuration } from '../src/index.js';

describe('parseDuration', () => {
  it.each([
    ['1d', 86400],
    ['24h', 86400],
    ['720h', 720 * 3600],
    ['10y', 10 * 365 * 86400],
    ['1h30m', 5400],
    ['90s', 90],
    ['500ms', 0.5],
    ['1.5h', 5400],
    ['2w', 14 * 86400],
    ['1m30s250ms', 90.25],
    ['0', 0],
    ['100us', 0.0001],
  ])('%s is %d seconds', (text, seconds) => {
    expect(parseDuration(text)).toBeCloseTo(seconds, 9);
  });

  it.each([
    ['', /^is empty; write a duration like/],
    ['24', /^"24" has no unit; write a duration like 90s/],
    ['-1h', /^"-1h" is negative/],
    ['1 day', /^"1 day" is not a duration; write it like 90s, 10m, 24h, 1d, 1h30m or 10y/],
    ['h', /is not a duration/],
    ['1h 30m', /is not a duration/],
    ['1H', /is not a duration/],
    ['1h30', /is not a duration/],
  ])('refuses %j', (text, message) => {
    expect(() => parseDuration(text)).toThrow(message);
  });
});

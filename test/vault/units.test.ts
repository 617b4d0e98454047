import { describe, expect, it } from 'vitest';
import { glob } from '../servers/vault/glob.js';
import { goDuration, humanDuration, parseDurationSeconds } from '../servers/vault/duration.js';
import { capabilitiesFor, parsePolicy } from '../servers/vault/policy.js';
import { firstRefusedName, keyUsageBits, roleFromBody } from '../servers/vault/pki/roles.js';

describe('go-glob semantics (allowed_uri_sans)', () => {
  it.each([
    ['kuma://*', 'kuma://kuma.io/service/web', true],
    ['spiffe://default/*', 'spiffe://default/a/b', true],
    ['spiffe://default/*', 'spiffe://default', false],
    ['spiffe://default/*', 'spiffe://defaultx/a', false],
    ['spiffe://*/web', 'spiffe://default/web', true],
    ['spiffe://*/web', 'spiffe://default/api', false],
    ['*', '', true],
    ['', '', true],
    ['exact', 'exact', true],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXcYYb', false],
  ])('%s vs %s -> %s', (pattern, subject, expected) => {
    expect(glob(pattern, subject)).toBe(expected);
  });
});

describe('durations', () => {
  it('parses Vault inputs', () => {
    expect(parseDurationSeconds('ttl', '720h')).toBe(2592000);
    expect(parseDurationSeconds('ttl', '1h30m')).toBe(5400);
    expect(parseDurationSeconds('ttl', 3600)).toBe(3600);
    expect(parseDurationSeconds('ttl', '3600')).toBe(3600);
    expect(parseDurationSeconds('ttl', '2d')).toBe(172800);
    expect(parseDurationSeconds('ttl', '')).toBe(0);
    expect(() => parseDurationSeconds('ttl', '720x')).toThrow(/ttl/);
  });
  it('prints like Go', () => {
    expect(goDuration(2592000)).toBe('720h0m0s');
    expect(goDuration(600)).toBe('10m0s');
    expect(goDuration(5)).toBe('5s');
    expect(humanDuration(2764800)).toBe('768h');
    expect(humanDuration(5400)).toBe('1h30m');
  });
});

describe('policies', () => {
  it("tolerates the seed's leading slash and newline before the block", () => {
    const p = parsePolicy('p', 'path "/kmesh-pki-default/issue/dataplane-proxies"\n{\n  capabilities = ["create", "update"]\n}\n', '');
    expect([...capabilitiesFor([p], 'kmesh-pki-default/issue/dataplane-proxies')].sort()).toEqual(['create', 'update']);
    expect(capabilitiesFor([p], 'kmesh-pki-default/issue/other').size).toBe(0);
  });
  it('most specific rule wins; + matches one segment; deny overrides', () => {
    const p = parsePolicy(
      'p',
      `
      path "secret/*" { capabilities = ["read"] }
      path "secret/team/*" { capabilities = ["update"] }
      path "pki/+/issue/*" { capabilities = ["update"] }
      path "pki/a/issue/x" { capabilities = ["deny"] }
      # comment
    `,
      '',
    );
    expect([...capabilitiesFor([p], 'secret/foo')]).toEqual(['read']);
    // Vault's priority: the rule whose first wildcard comes later wins.
    expect([...capabilitiesFor([p], 'secret/team/x')]).toEqual(['update']);
    expect([...capabilitiesFor([p], 'pki/b/issue/y')]).toEqual(['update']);
    expect(capabilitiesFor([p], 'pki/a/issue/x').size).toBe(0);
    expect(capabilitiesFor([p], 'pki/a/b/issue/y').size).toBe(0);
  });
  it('rules from several policies on the same path are unioned; namespace prefixes apply', () => {
    const a = parsePolicy('a', 'path "pki/issue/r" { capabilities = ["read"] }', 'team-a/');
    const b = parsePolicy('b', 'path "pki/issue/r" { capabilities = ["update"] }', 'team-a/');
    expect([...capabilitiesFor([a, b], 'team-a/pki/issue/r')].sort()).toEqual(['read', 'update']);
    expect(capabilitiesFor([a, b], 'pki/issue/r').size).toBe(0);
  });
  it('refuses unknown capabilities and broken HCL with a 400', () => {
    expect(() => parsePolicy('p', 'path "x" { capabilities = ["fly"] }', '')).toThrow(/invalid capability/);
    expect(() => parsePolicy('p', 'path "x" { capabilities = ["read"]', '')).toThrow(/failed to parse policy/);
  });
});

describe('role name checks', () => {
  const role = roleFromBody('r', { allowed_domains: 'mesh', allow_subdomains: 'true' }, 0);
  it('allow_subdomains admits sub-names but not the bare domain', () => {
    expect(firstRefusedName(role, ['web.mesh', 'a.b.mesh'])).toBe('');
    expect(firstRefusedName(role, ['mesh'])).toBe('mesh');
    expect(firstRefusedName(role, ['web.example.com'])).toBe('web.example.com');
  });
  it('key_usage names follow Vault: "DigitalSignature" counts, "KeyUsageDigitalSignature" is ignored', () => {
    expect(keyUsageBits(['DigitalSignature', 'KeyEncipherment'])).toBe(1 | 4);
    expect(keyUsageBits(['KeyUsageDigitalSignature'])).toBe(0);
  });
});

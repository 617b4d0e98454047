import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, decodeJwt, importJWK } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KEYRING_FILE,
  createTokenIssuer,
  issuerFromKeyring,
  loadKeyring,
  loadOrCreateKeyring,
  revokeKey,
  revokeToken,
  rotateKeyring,
  saveKeyring,
  type Keyring,
  type TokenError,
} from '../src/index.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'meshca-tokens-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

function refused(result: { ok: true } | { ok: false; error: TokenError }): TokenError {
  if (result.ok) throw new Error('expected the token to be refused');
  return result.error;
}

describe('token keyring', () => {
  it('creates the keyring once, as a 0600 file, and loads the same keys again', async () => {
    const dir = join(await tempDir(), 'keys');
    const first = await loadOrCreateKeyring(dir);
    const mode = (await stat(join(dir, KEYRING_FILE))).mode & 0o777;
    expect(mode).toBe(0o600);
    const again = await loadOrCreateKeyring(dir);
    expect(again.keys.map((k) => k.kid)).toEqual(first.keys.map((k) => k.kid));
    const token = await issuerFromKeyring(first).issueZoneToken({ zone: 'east', validFor: 60 });
    const result = await issuerFromKeyring(again).verify(token, 'zone');
    expect(result.ok && result.claims.zone).toBe('east');
  });

  it('signs with the newest key after rotation and still verifies tokens of the older key', async () => {
    const dir = await tempDir();
    const k1 = await loadOrCreateKeyring(dir);
    const old = await issuerFromKeyring(k1).issueZoneToken({ zone: 'east', validFor: 60 });
    const k2 = await rotateKeyring(k1);
    await saveKeyring(dir, k2);
    const reloaded = (await loadKeyring(dir)) as Keyring;
    expect(reloaded.keys).toHaveLength(2);
    const issuer = issuerFromKeyring(reloaded);
    const fresh = await issuer.issueZoneToken({ zone: 'west', validFor: 60 });
    const newestKid = reloaded.keys[1]?.kid;
    expect(JSON.parse(Buffer.from(fresh.split('.')[0] ?? '', 'base64url').toString()).kid).toBe(newestKid);
    expect((await issuer.verify(old, 'zone')).ok).toBe(true);
    expect((await issuer.verify(fresh, 'zone')).ok).toBe(true);

    // Revoking the old key refuses its tokens but not the new key's.
    const revoked = issuerFromKeyring(revokeKey(reloaded, reloaded.keys[0]?.kid ?? ''));
    expect(refused(await revoked.verify(old, 'zone')).reason).toBe('revoked');
    expect((await revoked.verify(fresh, 'zone')).ok).toBe(true);
  });

  it('does not write the private key into the token or the error', async () => {
    const keyring = await loadOrCreateKeyring(await tempDir());
    const token = await issuerFromKeyring(keyring).issueZoneToken({ zone: 'east', validFor: 60 });
    const d = keyring.keys[0]?.jwk.d ?? '';
    expect(d.length).toBeGreaterThan(10);
    expect(token).not.toContain(d);
    expect(JSON.stringify(decodeJwt(token))).not.toContain(d);
  });
});

describe('token verification', async () => {
  const keyring = await loadOrCreateKeyring(await tempDir());
  const issuer = issuerFromKeyring(keyring);

  it('returns typed zone and dataplane claims', async () => {
    const zone = await issuer.verify(await issuer.issueZoneToken({ zone: 'east', validFor: 3600 }), 'zone');
    expect(zone.ok).toBe(true);
    if (zone.ok) {
      expect(zone.claims.zone).toBe('east');
      expect(zone.claims.expiresAt.getTime() - zone.claims.issuedAt.getTime()).toBe(3600_000);
    }
    const dp = await issuer.verify(
      await issuer.issueDataplaneToken({ mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': 'web' }, validFor: 60 }),
      'dataplane',
    );
    expect(dp.ok && [dp.claims.mesh, dp.claims.name, dp.claims.tags]).toEqual(['default', 'web-1', { 'kuma.io/service': 'web' }]);
  });

  it('refuses a missing token', async () => {
    expect(refused(await issuer.verify(undefined, 'zone')).reason).toBe('missing');
    expect(refused(await issuer.verify('', 'zone')).reason).toBe('missing');
  });

  it('refuses a malformed token', async () => {
    const err = refused(await issuer.verify('not-a-jwt', 'zone'));
    expect(err.reason).toBe('malformed');
  });

  it('refuses a token signed by another keyring and an altered token as forged', async () => {
    const other = issuerFromKeyring(await loadOrCreateKeyring(await tempDir()));
    expect(refused(await issuer.verify(await other.issueZoneToken({ zone: 'east', validFor: 60 }), 'zone')).reason).toBe('forged');

    // Same kid, payload changed to another zone: the signature no longer matches.
    const [h, , s] = (await issuer.issueZoneToken({ zone: 'east', validFor: 60 })).split('.');
    const payload = Buffer.from(JSON.stringify({ kind: 'zone', zone: 'west', iss: 'meshca', jti: 'x', iat: 1, exp: 9999999999 })).toString(
      'base64url',
    );
    expect(refused(await issuer.verify(`${h}.${payload}.${s}`, 'zone')).reason).toBe('forged');
  });

  it('refuses an expired token and says when it expired', async () => {
    const key = keyring.keys[0];
    if (key === undefined) throw new Error('no key');
    const exp = Math.floor(Date.now() / 1000) - 30;
    const token = await new SignJWT({ kind: 'zone', zone: 'east' })
      .setProtectedHeader({ alg: 'Ed25519', kid: key.kid })
      .setIssuer('meshca')
      .setIssuedAt(exp - 60)
      .setExpirationTime(exp)
      .setJti('old')
      .sign(await importJWK(key.jwk, 'Ed25519'));
    const err = refused(await issuer.verify(token, 'zone'));
    expect(err.reason).toBe('expired');
    expect(err.expiredAt?.getTime()).toBe(exp * 1000);
    expect(err.message).toContain(new Date(exp * 1000).toISOString());
  });

  // Tokens that jose itself signs with a real key of the keyring, each wrong in one way: the
  // verifier must refuse every one of them the way jose's jwtVerify did.
  async function signed(claims: Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
    const key = keyring.keys[0];
    if (key === undefined) throw new Error('no key');
    return new SignJWT(claims).setProtectedHeader({ alg: 'Ed25519', kid: key.kid, ...header }).sign(await importJWK(key.jwk, 'Ed25519'));
  }
  const now = () => Math.floor(Date.now() / 1000);
  const valid = () => ({ kind: 'zone', zone: 'east', iss: 'meshca', jti: 'j1', iat: now(), exp: now() + 60 });

  it('verifies a token jose signed, and refuses each claim or header it must not accept', async () => {
    expect((await issuer.verify(await signed(valid()), 'zone')).ok).toBe(true);
    const reasons = async (claims: Record<string, unknown>, header?: Record<string, unknown>) =>
      refused(await issuer.verify(await signed(claims, header), 'zone')).reason;
    expect(await reasons({ ...valid(), iss: 'someone-else' })).toBe('malformed');
    expect(await reasons({ ...valid(), exp: String(now() + 60) })).toBe('malformed');
    expect(await reasons({ ...valid(), nbf: now() + 600 })).toBe('malformed');
    expect(await reasons({ ...valid(), iat: 'yesterday' })).toBe('malformed');
    expect(await reasons({ ...valid(), exp: now() })).toBe('expired');
    expect(await reasons(valid(), { crit: ['b64'], b64: true })).toBe('malformed');
  });

  it('refuses alg "none", a cut signature, a fourth part and non-base64url characters', async () => {
    const [h, p, sig] = (await signed(valid())).split('.') as [string, string, string];
    const none = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(h, 'base64url').toString()), alg: 'none' })).toString('base64url');
    expect(refused(await issuer.verify(`${none}.${p}.`, 'zone')).reason).toBe('malformed');
    expect(refused(await issuer.verify(`${none}.${p}.${sig}`, 'zone')).reason).toBe('malformed');
    expect(refused(await issuer.verify(`${h}.${p}.${sig.slice(0, 40)}`, 'zone')).reason).toBe('forged');
    expect(refused(await issuer.verify(`${h}.${p}.${sig}.${sig}`, 'zone')).reason).toBe('malformed');
    expect(refused(await issuer.verify(`${h}.${p}.${sig.slice(0, -2)}+/`, 'zone')).reason).toBe('malformed');
  });

  it('calls an expired token with a bad signature forged, not expired', async () => {
    const [h, p] = (await signed({ ...valid(), exp: now() - 10 })).split('.') as [string, string, string];
    const other = (
      await issuerFromKeyring(await loadOrCreateKeyring(await tempDir())).issueZoneToken({ zone: 'east', validFor: 60 })
    ).split('.')[2];
    expect(refused(await issuer.verify(`${h}.${p}.${other}`, 'zone')).reason).toBe('forged');
  });

  it('refuses a revoked token by jti, and a live revocation set takes effect at once', async () => {
    const token = await issuer.issueZoneToken({ zone: 'east', validFor: 60 });
    const jti = decodeJwt(token).jti ?? '';
    expect(refused(await issuerFromKeyring(revokeToken(keyring, jti)).verify(token, 'zone')).reason).toBe('revoked');

    const live = new Set<string>();
    const liveIssuer = createTokenIssuer({ keys: keyring.keys, revoked: live });
    expect((await liveIssuer.verify(token, 'zone')).ok).toBe(true);
    live.add(jti);
    const err = refused(await liveIssuer.verify(token, 'zone'));
    expect(err.reason).toBe('revoked');
    expect(err.message).not.toContain(token);
  });

  it('stillValid: a token verified earlier dies with its jti, its signing key, or the key leaving the keyring', async () => {
    const token = await issuer.issueDataplaneToken({ mesh: 'default', name: 'web-1', validFor: 60 });
    const verified = await issuer.verify(token, 'dataplane');
    if (!verified.ok) throw new Error('expected a valid token');
    const { jti, kid } = verified.claims;
    expect(kid).toBe(JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString()).kid);
    expect(issuer.stillValid({ jti, kid })).toBeUndefined();
    expect(issuerFromKeyring(revokeToken(keyring, jti)).stillValid({ jti, kid })?.message).toBe(
      `token ${jti} was revoked; issue a new token`,
    );
    expect(issuerFromKeyring(revokeKey(keyring, kid)).stillValid({ jti, kid })?.reason).toBe('revoked');
    const other = await loadOrCreateKeyring(await tempDir());
    expect(issuerFromKeyring(other).stillValid({ jti, kid })?.message).toContain('no longer in the keyring');
  });

  it('refuses a token of the wrong kind', async () => {
    const dp = await issuer.issueDataplaneToken({ mesh: 'default', name: 'web-1', validFor: 60 });
    const err = refused(await issuer.verify(dp, 'zone'));
    expect(err.reason).toBe('wrong-kind');
    expect(err.message).toBe('this is a dataplane token; a zone token is required');
  });

  it('refuses zone names that are not DNS labels', async () => {
    await expect(issuer.issueZoneToken({ zone: 'a.b', validFor: 60 })).rejects.toThrow(/DNS label/);
  });

  it('keeps the keyring file JSON with private keys only in it', async () => {
    const dir = await tempDir();
    await saveKeyring(dir, keyring);
    const text = await readFile(join(dir, KEYRING_FILE), 'utf8');
    expect((JSON.parse(text) as Keyring).keys[0]?.kid).toBe(keyring.keys[0]?.kid);
  });
});

// Signed tokens for zones and dataplanes: issuing with the newest key of a keyring, and typed
// verification with every key that is not revoked.
import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT, importJWK, type JWK, type JWTPayload } from 'jose';
import { decodeJwt, publicKeyFromJwk, verifyJwt } from './jwt.js';

export const ALG = 'Ed25519';
const ISSUER = 'meshca';

export interface SigningKey {
  kid: string;
  /** ISO-8601; the newest key that is not revoked signs. */
  createdAt: string;
  revoked?: boolean;
  /** Private JWK (it carries the public part too). */
  jwk: JWK;
}

export interface Keyring {
  keys: SigningKey[];
  /** `jti`s of revoked tokens. */
  revokedTokens: string[];
}

export interface ZoneClaims {
  kind: 'zone';
  zone: string;
  jti: string;
  /** The signing key's id: a token dies with its key. */
  kid: string;
  issuedAt: Date;
  expiresAt: Date;
}

export interface DataplaneClaims {
  kind: 'dataplane';
  mesh: string;
  name: string;
  tags?: Record<string, string>;
  /** The `kuma.io/workload` label the dataplane must carry (set on it when absent), as Kuma's --workload. */
  workload?: string;
  jti: string;
  kid: string;
  issuedAt: Date;
  expiresAt: Date;
}

export type TokenClaims = ZoneClaims | DataplaneClaims;
export type TokenKind = TokenClaims['kind'];

export type TokenErrorReason = 'missing' | 'malformed' | 'forged' | 'expired' | 'revoked' | 'wrong-kind';

/** Why a token was refused. The message never contains the token itself. */
export class TokenError extends Error {
  constructor(
    readonly reason: TokenErrorReason,
    message: string,
    /** Set when reason is 'expired'. */
    readonly expiredAt?: Date,
  ) {
    super(message);
    this.name = 'TokenError';
  }
}

export type VerifyResult<C extends TokenClaims = TokenClaims> = { ok: true; claims: C } | { ok: false; error: TokenError };

type ClaimsOf<K extends TokenKind> = Extract<TokenClaims, { kind: K }>;

export interface TokenIssuer {
  issueZoneToken(opts: { zone: string; validFor: number }): Promise<string>;
  issueDataplaneToken(opts: {
    mesh: string;
    name: string;
    tags?: Record<string, string>;
    workload?: string;
    validFor: number;
  }): Promise<string>;
  /** Checks signature, expiry, revocation and, when `kind` is given, the token kind. */
  verify<K extends TokenKind>(token: string | undefined, kind: K): Promise<VerifyResult<ClaimsOf<K>>>;
  verify(token: string | undefined): Promise<VerifyResult>;
  /**
   * For a token verified earlier and still in use (an open stream): a `revoked` error once its jti
   * or its signing key has been revoked, or the key is gone from the keyring. Expiry is not
   * re-checked: a token is checked for that when a connection opens.
   */
  stillValid(claims: { jti: string; kid: string }): TokenError | undefined;
}

export interface TokenIssuerOptions {
  keys: SigningKey[];
  /** Revoked `jti`s; a live Set may be passed and mutated later. */
  revoked?: { has(jti: string): boolean };
}

/** Zone names become name prefixes on global (`<zone>.<name>`), so they are DNS labels: no dots. */
export const ZONE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function createTokenIssuer(opts: TokenIssuerOptions): TokenIssuer {
  const active = opts.keys.filter((k) => k.revoked !== true);
  const signer = [...active].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).at(-1);
  const byKid = new Map(opts.keys.map((k) => [k.kid, k]));
  const publicKeys = new Map<string, KeyObject>();
  const publicKey = (k: SigningKey): KeyObject => {
    let p = publicKeys.get(k.kid);
    if (p === undefined) {
      p = publicKeyFromJwk(k.jwk);
      publicKeys.set(k.kid, p);
    }
    return p;
  };
  const revoked = opts.revoked ?? new Set<string>();

  async function sign(payload: JWTPayload, validFor: number): Promise<string> {
    if (signer === undefined) throw new Error('token keyring has no active signing key: rotate the keyring to add one');
    if (!Number.isFinite(validFor) || validFor <= 0) throw new Error(`validFor must be a positive number of seconds, got ${validFor}`);
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(payload)
      .setProtectedHeader({ alg: ALG, kid: signer.kid, typ: 'JWT' })
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(now + Math.ceil(validFor))
      .setJti(randomUUID())
      .sign(await importJWK(signer.jwk, ALG));
  }

  function stillValid({ jti, kid }: { jti: string; kid: string }): TokenError | undefined {
    const key = byKid.get(kid);
    if (key === undefined) return new TokenError('revoked', `token's signing key ${kid} is no longer in the keyring; issue a new token`);
    if (key.revoked === true) return new TokenError('revoked', `token's signing key ${kid} was revoked; issue a new token`);
    if (revoked.has(jti)) return new TokenError('revoked', `token ${jti} was revoked; issue a new token`);
    return undefined;
  }

  async function verify(token: string | undefined, kind?: TokenKind): Promise<VerifyResult> {
    const fail = (reason: TokenErrorReason, message: string, at?: Date): VerifyResult => ({
      ok: false,
      error: new TokenError(reason, message, at),
    });
    if (token === undefined || token.trim() === '') return fail('missing', 'no token was presented');
    const decoded = decodeJwt(token.trim());
    if (decoded === undefined) return fail('malformed', 'token is not a well-formed signed JWT');
    const kid = decoded.header.kid;
    const key = typeof kid === 'string' ? byKid.get(kid) : undefined;
    if (key === undefined)
      return fail('forged', 'token is signed by a key this control plane does not know (forged or from another installation)');
    const checked = verifyJwt(decoded, publicKey(key), { alg: ALG, issuer: ISSUER });
    if (!checked.ok) {
      if (checked.reason === 'expired') {
        const exp = new Date(checked.exp * 1000);
        return fail('expired', `token expired at ${exp.toISOString()}; issue a new token`, exp);
      }
      if (checked.reason === 'forged') return fail('forged', 'token signature does not verify (forged or altered)');
      return fail('malformed', 'token is not a well-formed meshca token');
    }
    const claims = toClaims(checked.payload, key.kid);
    if (claims === undefined) return fail('malformed', 'token claims are incomplete (kind, zone or mesh/name, jti, exp)');
    const gone = stillValid(claims);
    if (gone !== undefined) return { ok: false, error: gone };
    if (kind !== undefined && claims.kind !== kind)
      return fail('wrong-kind', `this is a ${claims.kind} token; a ${kind} token is required`);
    return { ok: true, claims };
  }

  return {
    issueZoneToken: ({ zone, validFor }) => {
      if (!ZONE_NAME.test(zone))
        return Promise.reject(new Error(`zone name "${zone}" must be a DNS label: lowercase letters, digits and '-', at most 63`));
      return sign({ kind: 'zone', zone }, validFor);
    },
    issueDataplaneToken: ({ mesh, name, tags, workload, validFor }) =>
      sign(
        { kind: 'dataplane', mesh, name, ...(tags === undefined ? {} : { tags }), ...(workload === undefined ? {} : { workload }) },
        validFor,
      ),
    verify: verify,
    stillValid,
  };
}

function toClaims(p: JWTPayload, kid: string): TokenClaims | undefined {
  if (typeof p.jti !== 'string' || typeof p.exp !== 'number' || typeof p.iat !== 'number') return undefined;
  const times = { jti: p.jti, kid, issuedAt: new Date(p.iat * 1000), expiresAt: new Date(p.exp * 1000) };
  if (p.kind === 'zone' && typeof p.zone === 'string') return { kind: 'zone', zone: p.zone, ...times };
  if (p.kind === 'dataplane' && typeof p.mesh === 'string' && typeof p.name === 'string') {
    const tags = p.tags;
    if (tags !== undefined && !isStringRecord(tags)) return undefined;
    if (p.workload !== undefined && typeof p.workload !== 'string') return undefined;
    const workload = p.workload;
    return {
      kind: 'dataplane',
      mesh: p.mesh,
      name: p.name,
      ...(tags === undefined ? {} : { tags }),
      ...(workload === undefined ? {} : { workload }),
      ...times,
    };
  }
  return undefined;
}

function isStringRecord(v: unknown): v is Record<string, string> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((x) => typeof x === 'string');
}

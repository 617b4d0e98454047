// Verification of meshca's own Ed25519 JWTs with node:crypto, on the calling thread. jose, which
// still signs them, verifies through WebCrypto: a promise and a thread-pool hop per token, and
// about 175 µs of CPU against about 105 µs here. A zone verifies one token per dataplane
// connection, 10,000 of them at a cold start (node --import tsx bench/tokens.ts).
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** `<header>.<payload>` as sent: what the signature covers. */
  signingInput: string;
  signature: Buffer;
}

export type JwtCheck =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; reason: 'malformed' | 'forged' }
  | { ok: false; reason: 'expired'; exp: number };

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function jsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Splits a compact JWS; undefined unless it has three base64url parts whose first two are JSON objects. */
export function decodeJwt(token: string): DecodedJwt | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => BASE64URL.test(p))) return undefined;
  const [h, p, s] = parts as [string, string, string];
  const header = jsonObject(h);
  const payload = jsonObject(p);
  if (header === undefined || payload === undefined) return undefined;
  return { header, payload, signingInput: `${h}.${p}`, signature: Buffer.from(s, 'base64url') };
}

export function publicKeyFromJwk(jwk: { kty?: string; crv?: string; x?: string }): KeyObject {
  const { kty, crv, x } = jwk;
  return createPublicKey({ key: { kty, crv, x } as JsonWebKey, format: 'jwk' });
}

/**
 * Checks, in this order, what jose's jwtVerify checked for these tokens: the header (`alg`, no
 * `crit`), the signature, then the claims (`iss`; `exp`, `nbf`, `iat` numeric; not expired, not
 * before its time). A bad signature is `forged` even when the token has also expired.
 */
export function verifyJwt(decoded: DecodedJwt, key: KeyObject, opts: { alg: string; issuer: string; nowSeconds?: number }): JwtCheck {
  const { header, payload } = decoded;
  if (header.alg !== opts.alg || header.crit !== undefined) return { ok: false, reason: 'malformed' };
  if (decoded.signature.length !== 64 || !verify(null, Buffer.from(decoded.signingInput), key, decoded.signature)) {
    return { ok: false, reason: 'forged' };
  }
  if (payload.iss !== opts.issuer) return { ok: false, reason: 'malformed' };
  for (const claim of ['exp', 'nbf', 'iat'] as const) {
    if (payload[claim] !== undefined && (typeof payload[claim] !== 'number' || !Number.isFinite(payload[claim])))
      return { ok: false, reason: 'malformed' };
  }
  const now = opts.nowSeconds ?? Math.floor(Date.now() / 1000);
  const exp = payload.exp as number | undefined;
  if (exp !== undefined && exp <= now) return { ok: false, reason: 'expired', exp };
  const nbf = payload.nbf as number | undefined;
  if (nbf !== undefined && nbf > now) return { ok: false, reason: 'malformed' };
  return { ok: true, payload };
}

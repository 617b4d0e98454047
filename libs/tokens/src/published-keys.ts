// Dataplane tokens are signed on global and verified on zones, which must work while global is
// away. Global publishes the PUBLIC half of its signing keys and the revoked token ids as one
// GlobalSecret; KDS syncs it to every zone like any other GlobalSecret. Private keys never leave global.
import { createTokenIssuer, type DataplaneClaims, type Keyring, type SigningKey, type TokenError, type TokenIssuer } from './issuer.js';
import type { ResourceInput } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';

export const TOKEN_VERIFICATION_SECRET = 'meshca-token-verification';

interface PublishedKeys {
  keys: SigningKey[];
  revokedTokens: string[];
}

/** The GlobalSecret global publishes for a keyring: public JWKs only. */
export function verificationSecret(keyring: Keyring): ResourceInput {
  const published: PublishedKeys = {
    keys: keyring.keys.map((k) => {
      const { d: _private, ...pub } = k.jwk;
      return { kid: k.kid, createdAt: k.createdAt, ...(k.revoked === true ? { revoked: true } : {}), jwk: pub };
    }),
    revokedTokens: [...keyring.revokedTokens],
  };
  return {
    meta: { type: 'GlobalSecret', name: TOKEN_VERIFICATION_SECRET, labels: { 'meshca.io/managed-by': 'global' } },
    spec: { data: Buffer.from(JSON.stringify(published)).toString('base64') },
  };
}

export type DataplaneTokenResult = { ok: true; claims: DataplaneClaims } | { ok: false; error: TokenError | KeysUnavailable };

/** The zone cannot check any token: global's published keys are missing or unreadable. */
export interface KeysUnavailable {
  reason: 'keys-unavailable';
  message: string;
}
export type DataplaneTokenVerifier = (token: string | undefined) => Promise<DataplaneTokenResult>;

export interface PublishedTokenKeys {
  /** Verifies a dataplane token as it connects. */
  verify: DataplaneTokenVerifier;
  /**
   * Reads the published keys once and returns, for tokens verified earlier and still in use, why
   * each is no longer valid (its jti or its signing key was revoked) or undefined. While the keys
   * are missing or unreadable every token passes: a zone that cannot read them keeps the
   * dataplanes it has.
   */
  revocations(): Promise<(claims: { jti: string; kid: string }) => string | undefined>;
}

/**
 * Dataplane token checks from the published GlobalSecret in `store` (a zone's store, or global's).
 * Re-reads the secret on every call (one store get) and rebuilds the verifier only when it changed.
 */
export function createPublishedTokenKeys(store: ResourceStore): PublishedTokenKeys {
  let cached: { version: number; issuer: TokenIssuer } | undefined;
  const current = async (): Promise<TokenIssuer | KeysUnavailable> => {
    const secret = await store.get({ type: 'GlobalSecret', name: TOKEN_VERIFICATION_SECRET });
    if (secret === undefined) {
      return {
        reason: 'keys-unavailable',
        message: `cannot verify dataplane tokens yet: GlobalSecret "${TOKEN_VERIFICATION_SECRET}" has not been received from global`,
      };
    }
    if (cached?.version !== secret.meta.version) {
      let published: PublishedKeys;
      try {
        const data = (secret.spec as { data?: unknown }).data;
        published = JSON.parse(Buffer.from(String(data), 'base64').toString('utf8')) as PublishedKeys;
        if (!Array.isArray(published.keys)) throw new Error('no keys');
      } catch {
        return {
          reason: 'keys-unavailable',
          message: `GlobalSecret "${TOKEN_VERIFICATION_SECRET}" is not a meshca key set; it is written by global only`,
        };
      }
      const revoked = new Set(Array.isArray(published.revokedTokens) ? published.revokedTokens : []);
      cached = { version: secret.meta.version, issuer: createTokenIssuer({ keys: published.keys, revoked }) };
    }
    return cached.issuer;
  };
  return {
    async verify(token) {
      const issuer = await current();
      return 'reason' in issuer ? { ok: false, error: issuer } : issuer.verify(token, 'dataplane');
    },
    async revocations() {
      const issuer = await current();
      return 'reason' in issuer ? () => undefined : (claims) => issuer.stillValid(claims)?.message;
    },
  };
}

export function createDataplaneTokenVerifier(store: ResourceStore): DataplaneTokenVerifier {
  return createPublishedTokenKeys(store).verify;
}

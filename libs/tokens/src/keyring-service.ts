// Global's token authority: one keyring file in the data dir, the issuer built from it, and the
// public verification keys published as a GlobalSecret so zones verify dataplane tokens on their own.
import { canonicalJson, type Logger } from '@meshca/common';
import type { ResourceStore } from '@meshca/store';
import type { Keyring, TokenIssuer } from './issuer.js';
import { issuerFromKeyring, loadOrCreateKeyring, revokeKey, revokeToken, rotateKeyring, saveKeyring } from './keyring.js';
import { verificationSecret } from './published-keys.js';

export interface SigningKeyInfo {
  kid: string;
  createdAt: string;
  revoked: boolean;
  /** The key that signs new tokens. */
  signing: boolean;
}

export interface TokenService {
  /** Verifies with the current keyring. */
  issuer(): TokenIssuer;
  issueZoneToken(opts: { zone: string; validFor: number }): Promise<string>;
  /** Publishes the verification keys first, so zones can check the token it returns. */
  issueDataplaneToken(opts: {
    mesh: string;
    name: string;
    tags?: Record<string, string>;
    workload?: string;
    validFor: number;
  }): Promise<string>;
  keys(): SigningKeyInfo[];
  /** Adds a signing key; older keys keep verifying until revoked. */
  rotate(): Promise<SigningKeyInfo>;
  revokeKey(kid: string): Promise<void>;
  revokeJti(jti: string): Promise<void>;
  /** Called after each keyring change (rotation, revocation) is saved and published. */
  onChange(listener: () => void): void;
}

export async function createTokenService(opts: { dataDir: string; store: ResourceStore; log: Logger }): Promise<TokenService> {
  let keyring = await loadOrCreateKeyring(opts.dataDir);
  let issuer = issuerFromKeyring(keyring);
  // Serialised: two rotations at once must not lose a key.
  let chain: Promise<unknown> = Promise.resolve();

  // Published at every start, not only when a token is made: a global restarted on an empty
  // store (memory) would otherwise leave zones unable to check the tokens its keyring signed.
  const publish = async () => {
    const input = verificationSecret(keyring);
    const existing = await opts.store.get(input.meta);
    if (existing === undefined) await opts.store.create(input);
    else if (canonicalJson(existing.spec) !== canonicalJson(input.spec)) await opts.store.update(input, existing.meta.version);
  };
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const next = chain.then(fn);
    chain = next.catch(() => undefined);
    return next;
  };
  const listeners: (() => void)[] = [];
  const change = (fn: (k: Keyring) => Keyring | Promise<Keyring>) =>
    serial(async () => {
      keyring = await fn(keyring);
      await saveKeyring(opts.dataDir, keyring);
      issuer = issuerFromKeyring(keyring);
      await publish();
      for (const l of listeners) l();
    });
  const keys = (): SigningKeyInfo[] => {
    const signer = keyring.keys
      .filter((k) => k.revoked !== true)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .at(-1);
    return keyring.keys.map((k) => ({ kid: k.kid, createdAt: k.createdAt, revoked: k.revoked === true, signing: k.kid === signer?.kid }));
  };

  await serial(() => publish());
  return {
    issuer: () => issuer,
    issueZoneToken: (o) => issuer.issueZoneToken(o),
    async issueDataplaneToken(o) {
      await serial(() => publish());
      return issuer.issueDataplaneToken(o);
    },
    keys,
    async rotate() {
      await change(rotateKeyring);
      const added = keys().find((k) => k.signing);
      if (added === undefined) throw new Error('rotation left no signing key');
      opts.log.info({ kid: added.kid }, 'token signing key rotated; older keys verify until revoked');
      return added;
    },
    async revokeKey(kid) {
      await change((k) => revokeKey(k, kid));
      opts.log.warn({ kid }, 'token signing key revoked: every token it signed is refused');
    },
    async revokeJti(jti) {
      await change((k) => revokeToken(k, jti));
      opts.log.warn({ jti }, 'token revoked');
    },
    onChange(listener) {
      listeners.push(listener);
    },
  };
}

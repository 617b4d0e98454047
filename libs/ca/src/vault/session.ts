// The token this backend sends, and its lifecycle: look it up once, renew a renewable token at a
// fraction of its TTL, and with cert auth log in again when renewal fails or the token is refused.
import type { Logger } from '@meshca/common';
import { CaError } from '../errors.js';
import type { VaultClient, VaultResponse } from './client.js';
import { isInvalidToken, responseFailure, transportFailure, type VaultCall } from './failure.js';
import type { VaultSettings } from './settings.js';

export interface TokenSession {
  /** The token to send, or undefined with a Vault Agent; logs in or looks up on first use. */
  token(): Promise<string | undefined>;
  /** `used` was refused as invalid: true when a fresh token is now available (cert auth). */
  refresh(used: string | undefined): Promise<boolean>;
  /** What is known about the token, for health and tests. */
  state(): { ttlSeconds: number | undefined; renewable: boolean; renewals: number; logins: number };
  /** Seconds the token has left now; undefined when it does not expire or is not known yet. */
  ttlLeftSeconds(): number | undefined;
  close(): void;
}

export interface SessionOptions {
  /** Renew at this fraction of the token's TTL. Default 2/3. */
  renewFraction?: number;
  log?: Logger;
}

const LOGIN: VaultCall = { method: 'POST', path: 'auth/cert/login', capability: 'update' };
const LOOKUP: VaultCall = { method: 'GET', path: 'auth/token/lookup-self', capability: 'read' };
const RENEW: VaultCall = { method: 'POST', path: 'auth/token/renew-self', capability: 'update' };

export function createTokenSession(s: VaultSettings, client: VaultClient, opts: SessionOptions = {}): TokenSession {
  const fraction = opts.renewFraction ?? 2 / 3;
  let current: Promise<string> | undefined;
  let ttlSeconds: number | undefined;
  /** When ttlSeconds was read from Vault (ms). */
  let ttlAt = 0;
  let renewable = false;
  let renewals = 0;
  let logins = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  async function call(c: VaultCall, token: string | undefined, body?: Record<string, unknown>): Promise<VaultResponse> {
    try {
      return await client.request({ method: c.method as 'GET' | 'POST', path: c.path, token, body, timeoutMs: s.issueTimeoutMs });
    } catch (err) {
      throw transportFailure(s, c, err);
    }
  }

  function schedule(seconds: number, what: () => Promise<void>): void {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (closed || !(seconds > 0)) return;
    timer = setTimeout(
      () => {
        what().catch((err: unknown) => opts.log?.warn({ pki: s.pki, err: (err as Error).message }, 'vault token upkeep failed'));
      },
      Math.max(100, seconds * fraction * 1000),
    ); // a floor against busy loops, below any sane TTL
    timer.unref();
  }

  /** Keeps the token alive from now on, given its TTL and whether it can be renewed. */
  function track(token: string, ttl: number, canRenew: boolean): void {
    ttlSeconds = ttl;
    ttlAt = Date.now();
    renewable = canRenew;
    if (ttl <= 0) return; // root-like tokens never expire
    if (canRenew) schedule(ttl, () => renew(token));
    else if (s.auth.kind === 'cert') schedule(ttl, relogin);
  }

  async function renew(token: string): Promise<void> {
    const res = await call(RENEW, token, {});
    if (res.status !== 200 || typeof res.json?.auth?.lease_duration !== 'number') {
      opts.log?.warn({ pki: s.pki, status: res.status }, 'vault token renewal refused');
      if (s.auth.kind === 'cert') await relogin();
      return;
    }
    renewals += 1;
    const lease = res.json.auth.lease_duration;
    // A lease that no longer grows has hit its max TTL: with cert auth, log in again before it ends.
    if (ttlSeconds !== undefined && lease < ttlSeconds * fraction) {
      ttlSeconds = lease;
      ttlAt = Date.now();
      if (s.auth.kind === 'cert') schedule(lease, relogin);
      else
        opts.log?.warn(
          { pki: s.pki, seconds: lease },
          'vault token reached its max TTL and cannot be renewed further; replace conf.fromCp.auth.token before it expires',
        );
      return;
    }
    track(token, lease, res.json.auth.renewable !== false);
  }

  async function login(): Promise<string> {
    const res = await call(LOGIN, undefined, {});
    const auth = res.json?.auth;
    if (res.status !== 200 || !auth?.client_token) {
      const err = responseFailure(s, LOGIN, res);
      throw new CaError(
        `${err.message}; the cert auth method must be enabled (vault auth enable cert) with a role trusting conf.fromCp.auth.tls.clientCert`,
        err.retryable,
      );
    }
    logins += 1;
    track(auth.client_token, auth.lease_duration ?? 0, auth.renewable === true);
    return auth.client_token;
  }

  async function relogin(): Promise<void> {
    const next = login();
    next.catch(() => {});
    current = next;
    await next;
  }

  async function lookup(token: string): Promise<string> {
    const res = await call(LOOKUP, token);
    if (res.status === 200) {
      const data = res.json?.data ?? {};
      track(token, typeof data.ttl === 'number' ? data.ttl : 0, data.renewable === true);
      return token;
    }
    if (isInvalidToken(res) || res.status >= 500 || res.status === 429) throw responseFailure(s, LOOKUP, res);
    // A policy without lookup-self (no default policy) can still issue; we just cannot renew ahead.
    opts.log?.warn({ pki: s.pki, status: res.status }, 'vault token lookup-self not allowed; the token will not be renewed');
    return token;
  }

  function start(): Promise<string> {
    const p = s.auth.kind === 'cert' ? login() : lookup(s.auth.kind === 'token' ? s.auth.token : '');
    // A failed start is not remembered: the next request tries again.
    p.catch(() => {
      if (current === p) current = undefined;
    });
    return p;
  }

  return {
    async token() {
      if (s.auth.kind === 'agent') return undefined;
      current ??= start();
      return current;
    },
    async refresh(used) {
      if (s.auth.kind !== 'cert' || closed) return false;
      const now = current ? await current.catch(() => undefined) : undefined;
      if (now !== undefined && now !== used) return true; // someone already logged in again
      await relogin();
      return true;
    },
    state: () => ({ ttlSeconds, renewable, renewals, logins }),
    ttlLeftSeconds: () => (ttlSeconds === undefined || ttlSeconds <= 0 ? undefined : Math.max(0, ttlSeconds - (Date.now() - ttlAt) / 1000)),
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}

import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest } from './errors.js';
import { humanDuration } from './duration.js';

export interface TokenEntry {
  id: string;
  accessor: string;
  /** Namespace path the token lives in: "" for root, "ns1/" otherwise. */
  nsPath: string;
  policies: string[];
  /** Seconds; 0 means the token never expires (root tokens). */
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  renewable: boolean;
  numUses: number;
  issueTime: number; // ms
  expireTime: number; // ms, 0 = never
  displayName: string;
  meta: Record<string, string> | null;
  path: string;
  orphan: boolean;
}

export interface TokenLimits {
  /** The token mount's default and max TTL (Vault's system defaults: 768h). */
  defaultTtl: number;
  maxTtl: number;
}

export const SYSTEM_TTL: TokenLimits = { defaultTtl: 768 * 3600, maxTtl: 768 * 3600 };

export function newTokenId(nsId: string): string {
  // Vault service tokens: "hvs." + 24 base62 chars; namespaced ones end with ".<nsid>".
  const body = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24);
  return nsId ? `hvs.${body}.${nsId}` : `hvs.${body}`;
}

export function newAccessor(nsId: string): string {
  const body = randomBytes(18).toString('base64url').replace(/[-_]/g, 'x').slice(0, 24);
  return nsId ? `${body}.${nsId}` : body;
}

export function requestId(): string {
  return randomUUID();
}

/**
 * framework.CalculateTTL: the TTL a token gets at creation or renewal, capped so
 * that it never runs past issue time + max TTL, with Vault's warning when capped.
 */
export function calculateTtl(
  limits: TokenLimits,
  opts: { increment: number; backendTtl: number; period: number; explicitMaxTtl: number; issueTime: number; now: number },
): { ttl: number; warnings: string[] } {
  const warnings: string[] = [];
  let maxTtl = limits.maxTtl;
  if (opts.explicitMaxTtl > 0 && opts.explicitMaxTtl < maxTtl) maxTtl = opts.explicitMaxTtl;
  const now = Math.floor(opts.now / 1000);
  const start = Math.floor(opts.issueTime / 1000);
  let ttl: number;
  let maxValid = 0;
  if (opts.period > 0) {
    let period = opts.period;
    if (period > maxTtl) {
      warnings.push(
        `period of ${JSON.stringify(humanDuration(period))} exceeded the effective max_ttl of ${JSON.stringify(humanDuration(maxTtl))}; period value is capped accordingly`,
      );
      period = maxTtl;
    }
    ttl = period;
    if (opts.explicitMaxTtl > 0) maxValid = start + opts.explicitMaxTtl;
  } else {
    ttl = opts.increment > 0 ? opts.increment : opts.backendTtl > 0 ? opts.backendTtl : limits.defaultTtl;
    maxValid = start + maxTtl;
  }
  if (maxValid > 0) {
    const maxValidTtl = maxValid - now;
    if (maxValidTtl <= 0) throw badRequest('past the max TTL, cannot renew');
    if (maxValidTtl < ttl) {
      warnings.push(
        `TTL of ${JSON.stringify(humanDuration(ttl))} exceeded the effective max_ttl of ${JSON.stringify(humanDuration(maxValidTtl))}; TTL value is capped accordingly`,
      );
      ttl = maxValidTtl;
    }
  }
  return { ttl, warnings };
}

export class TokenStore {
  private readonly byId = new Map<string, TokenEntry>();

  constructor(private readonly clock: () => number = Date.now) {}

  add(entry: TokenEntry): void {
    this.byId.set(entry.id, entry);
  }

  /** A live token or undefined; expired tokens are dropped like Vault's expiration manager does. */
  lookup(id: string): TokenEntry | undefined {
    const t = this.byId.get(id);
    if (!t) return undefined;
    if (t.expireTime !== 0 && t.expireTime <= this.clock()) {
      this.byId.delete(id);
      return undefined;
    }
    return t;
  }

  /** Counts one use of a limited-use token and revokes it after the last one. */
  use(t: TokenEntry): void {
    if (t.numUses <= 0) return;
    t.numUses -= 1;
    if (t.numUses === 0) this.byId.delete(t.id);
  }

  revoke(id: string): void {
    this.byId.delete(id);
  }

  renew(t: TokenEntry, increment: number, limits: TokenLimits): { warnings: string[] } {
    if (t.expireTime === 0 || !t.renewable) throw badRequest('lease is not renewable');
    const now = this.clock();
    const { ttl, warnings } = calculateTtl(limits, {
      increment,
      backendTtl: t.ttl,
      period: t.period,
      explicitMaxTtl: t.explicitMaxTtl,
      issueTime: t.issueTime,
      now,
    });
    t.expireTime = now + ttl * 1000;
    return { warnings };
  }

  remainingTtl(t: TokenEntry): number {
    return t.expireTime === 0 ? 0 : Math.max(0, Math.round((t.expireTime - this.clock()) / 1000));
  }

  authBlock(t: TokenEntry, leaseDuration: number, metadata: Record<string, string> | null = t.meta): Record<string, unknown> {
    const tokenPolicies = [...t.policies].sort();
    return {
      client_token: t.id,
      accessor: t.accessor,
      policies: tokenPolicies,
      token_policies: tokenPolicies,
      metadata,
      lease_duration: leaseDuration,
      renewable: t.renewable,
      entity_id: '',
      token_type: 'service',
      orphan: t.orphan,
      mfa_requirement: null,
      num_uses: t.numUses,
    };
  }

  lookupData(t: TokenEntry, nsPathOut: string): Record<string, unknown> {
    const creationTtl = Math.round(t.expireTime === 0 ? 0 : t.ttl);
    return {
      accessor: t.accessor,
      creation_time: Math.floor(t.issueTime / 1000),
      creation_ttl: creationTtl,
      display_name: t.displayName,
      entity_id: '',
      expire_time: t.expireTime === 0 ? null : new Date(t.expireTime).toISOString(),
      explicit_max_ttl: t.explicitMaxTtl,
      id: t.id,
      issue_time: new Date(t.issueTime).toISOString(),
      meta: t.meta,
      num_uses: t.numUses,
      orphan: t.orphan,
      path: t.path,
      policies: [...t.policies].sort(),
      renewable: t.renewable,
      ttl: this.remainingTtl(t),
      type: 'service',
      ...(t.period > 0 ? { period: t.period } : {}),
      ...(nsPathOut ? { namespace_path: nsPathOut } : {}),
    };
  }
}

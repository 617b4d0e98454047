import { badRequest } from './errors.js';
import { type Body, bool, commaList, duration, has, int, str } from './params.js';
import type { Route } from './route.js';
import { type TokenEntry, type TokenLimits, type TokenStore, SYSTEM_TTL, calculateTtl, newAccessor, newTokenId } from './tokens.js';
import type { Namespace } from './namespaces.js';

export interface MintOptions {
  policies: string[];
  ttl: number;
  explicitMaxTtl: number;
  period: number;
  renewable: boolean;
  numUses: number;
  noDefaultPolicy: boolean;
  displayName: string;
  meta: Record<string, string> | null;
  path: string;
  orphan: boolean;
}

/** Creates a token in `ns`; returns it with the lease duration and Vault's TTL warnings. */
export function mintToken(store: TokenStore, ns: Namespace, o: MintOptions, limits: TokenLimits = SYSTEM_TTL) {
  const policies = new Set(o.policies.filter((p) => p !== ''));
  const isRoot = policies.has('root');
  if (!o.noDefaultPolicy && !isRoot) policies.add('default');
  const now = Date.now();
  let ttl = 0;
  let warnings: string[] = [];
  if (!(isRoot && o.ttl === 0 && o.period === 0 && o.explicitMaxTtl === 0)) {
    ({ ttl, warnings } = calculateTtl(limits, {
      increment: 0,
      backendTtl: o.ttl,
      period: o.period,
      explicitMaxTtl: o.explicitMaxTtl,
      issueTime: now,
      now,
    }));
  }
  const entry: TokenEntry = {
    id: newTokenId(ns.path === '' ? '' : ns.id),
    accessor: newAccessor(ns.path === '' ? '' : ns.id),
    nsPath: ns.path,
    policies: [...policies].sort(),
    ttl,
    explicitMaxTtl: o.explicitMaxTtl,
    period: o.period,
    renewable: ttl === 0 ? false : o.renewable,
    numUses: o.numUses,
    issueTime: now,
    expireTime: ttl === 0 ? 0 : now + ttl * 1000,
    displayName: o.displayName,
    meta: o.meta,
    path: o.path,
    orphan: o.orphan,
  };
  store.add(entry);
  return { entry, ttl, warnings };
}

function metaOf(body: Body): Record<string, string> | null {
  const m = body.meta;
  if (!m || typeof m !== 'object' || Array.isArray(m)) return null;
  return Object.fromEntries(Object.entries(m as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** auth/token/* for one namespace. */
export function tokenRoute(store: TokenStore, ns: Namespace, sub: string): Route | undefined {
  switch (sub) {
    case 'create':
    case 'create-orphan':
      return {
        write: (req) => {
          const parent = req.token;
          const body = req.body;
          const parentIsRoot = parent?.policies.includes('root') ?? false;
          let policies = commaList(body, 'policies');
          if (!has(body, 'policies') && parent) policies = parent.policies.filter((p) => p !== 'root' || parentIsRoot);
          if (!parentIsRoot && parent) {
            const allowed = new Set(parent.policies);
            const extra = policies.filter((p) => p !== 'default' && !allowed.has(p));
            if (extra.length > 0) throw badRequest('child policies must be subset of parent');
          }
          const { entry, ttl, warnings } = mintToken(store, ns, {
            policies,
            ttl: duration(body, 'ttl'),
            explicitMaxTtl: duration(body, 'explicit_max_ttl'),
            period: duration(body, 'period'),
            renewable: bool(body, 'renewable', true),
            numUses: int(body, 'num_uses', 0),
            noDefaultPolicy: bool(body, 'no_default_policy', false),
            displayName: `token${str(body, 'display_name') ? `-${str(body, 'display_name')}` : ''}`,
            meta: metaOf(body),
            path: `auth/token/${sub}`,
            orphan: sub === 'create-orphan' || bool(body, 'no_parent', false),
          });
          return { auth: store.authBlock(entry, ttl), warnings };
        },
      };
    case 'lookup-self':
      return {
        read: (req) => ({ data: store.lookupData(req.token as TokenEntry, ns.path) }),
        write: (req) => ({ data: store.lookupData(req.token as TokenEntry, ns.path) }),
      };
    case 'renew-self':
      return {
        write: (req) => {
          const t = req.token as TokenEntry;
          if (t.nsPath !== ns.path) throw badRequest('cannot renew a token across namespaces');
          // A cert-auth token is renewed by the cert method, which checks the client certificate of
          // the renewal's own connection (Vault's pathLoginRenew): without one, 400.
          if (t.meta?.cert_name !== undefined && !req.clientCert?.raw?.length) throw badRequest('no client certificate found');
          const { warnings } = store.renew(t, duration(req.body, 'increment'), SYSTEM_TTL);
          return { auth: store.authBlock(t, store.remainingTtl(t)), warnings };
        },
      };
    case 'revoke-self':
      return {
        write: (req) => {
          store.revoke((req.token as TokenEntry).id);
          return undefined;
        },
      };
    default:
      return undefined;
  }
}

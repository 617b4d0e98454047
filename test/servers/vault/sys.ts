import { randomUUID } from 'node:crypto';
import { badRequest, notFound } from './errors.js';
import { type Body, duration, has, str } from './params.js';
import { parsePolicy } from './policy.js';
import type { Route } from './route.js';
import { newPkiState } from './pki/backend.js';
import { type Mount, type Namespace, type Namespaces, describeNamespace, newAccessorFor } from './namespaces.js';
import { SYSTEM_TTL } from './tokens.js';

export interface SealState {
  sealed: boolean;
  unsealKey: string;
  version: string;
  clusterName: string;
  clusterId: string;
}

export function sealStatus(s: SealState): Record<string, unknown> {
  return {
    type: 'shamir',
    initialized: true,
    sealed: s.sealed,
    t: 1,
    n: 1,
    progress: 0,
    nonce: '',
    version: s.version,
    build_date: '2024-01-01T00:00:00Z',
    migration: false,
    recovery_seal: false,
    storage_type: 'inmem',
    ...(s.sealed ? {} : { cluster_name: s.clusterName, cluster_id: s.clusterId }),
  };
}

export function health(s: SealState): { status: number; body: Record<string, unknown> } {
  const body: Record<string, unknown> = {
    initialized: true,
    sealed: s.sealed,
    standby: false,
    performance_standby: false,
    replication_performance_mode: 'disabled',
    replication_dr_mode: 'disabled',
    server_time_utc: Math.floor(Date.now() / 1000),
    version: s.version,
    enterprise: false,
    echo_duration_ms: 0,
    clock_skew_ms: 0,
  };
  if (!s.sealed) Object.assign(body, { cluster_name: s.clusterName, cluster_id: s.clusterId });
  return { status: s.sealed ? 503 : 200, body };
}

function json(body: Record<string, unknown>, status = 200) {
  return { raw: { contentType: 'application/json', body: JSON.stringify(body) }, status };
}

function mountInfo(m: Mount): Record<string, unknown> {
  return {
    accessor: m.accessor,
    config: { default_lease_ttl: m.defaultLeaseTtl, force_no_cache: false, max_lease_ttl: m.maxLeaseTtl },
    description: m.description,
    external_entropy_access: false,
    local: false,
    options: null,
    plugin_version: '',
    running_plugin_version: 'v1.15.0+builtin.vault',
    running_sha256: '',
    seal_wrap: false,
    type: m.type,
    uuid: m.uuid,
  };
}

function mountPathOf(raw: string): string {
  return `${raw.replace(/^\/+|\/+$/g, '')}/`;
}

function ttlsFrom(body: Body): { defaultLeaseTtl?: number; maxLeaseTtl?: number } {
  const out: { defaultLeaseTtl?: number; maxLeaseTtl?: number } = {};
  const config = typeof body.config === 'object' && body.config !== null ? (body.config as Body) : body;
  if (has(config, 'default_lease_ttl')) out.defaultLeaseTtl = duration(config, 'default_lease_ttl');
  if (has(config, 'max_lease_ttl')) out.maxLeaseTtl = duration(config, 'max_lease_ttl');
  return out;
}

function applyTune(m: Mount, t: { defaultLeaseTtl?: number; maxLeaseTtl?: number }): void {
  const def = t.defaultLeaseTtl ?? m.defaultLeaseTtl;
  const max = t.maxLeaseTtl ?? m.maxLeaseTtl;
  const effMax = max || SYSTEM_TTL.maxTtl;
  if (def > effMax) throw badRequest(`default lease TTL cannot be greater than max lease TTL`);
  m.defaultLeaseTtl = def;
  m.maxLeaseTtl = max;
}

/** sys/* routes other than health/seal (those live in the server, which owns the seal). */
export function sysRoute(namespaces: Namespaces, ns: Namespace, sub: string): Route | undefined {
  if (sub === 'mounts') {
    return {
      read: () => ({
        data: {
          'sys/': {
            type: 'system',
            description: 'system endpoints used for control, policy and debugging',
            config: { default_lease_ttl: 0, max_lease_ttl: 0 },
            local: false,
            seal_wrap: true,
          },
          ...Object.fromEntries([...ns.mounts.values()].map((m) => [m.path, mountInfo(m)])),
        },
      }),
    };
  }
  const tune = /^mounts\/(.+)\/tune$/.exec(sub);
  if (tune) {
    const path = mountPathOf(tune[1] ?? '');
    const find = () => {
      const m = ns.mounts.get(path);
      if (!m) throw badRequest(`cannot fetch mount entry for ${JSON.stringify(path)}: no matching mount`);
      return m;
    };
    return {
      read: () => {
        const m = find();
        return {
          data: {
            default_lease_ttl: m.defaultLeaseTtl || SYSTEM_TTL.defaultTtl,
            max_lease_ttl: m.maxLeaseTtl || SYSTEM_TTL.maxTtl,
            force_no_cache: false,
            description: m.description,
          },
        };
      },
      write: (req) => {
        applyTune(find(), ttlsFrom(req.body));
        return undefined;
      },
    };
  }
  const mount = /^mounts\/(.+)$/.exec(sub);
  if (mount) {
    const path = mountPathOf(mount[1] ?? '');
    return {
      read: () => {
        const m = ns.mounts.get(path);
        if (!m) throw badRequest(`No secret engine mount at ${path}`);
        return { data: mountInfo(m) };
      },
      write: (req) => {
        const type = str(req.body, 'type');
        if (ns.mounts.has(path) || [...ns.mounts.keys()].some((p) => p.startsWith(path) || path.startsWith(p))) {
          throw badRequest(`path is already in use at ${path}`);
        }
        if (/^(sys|auth|cubbyhole|identity)\//.test(path))
          throw badRequest(`cannot mount under ${JSON.stringify(path.split('/')[0] + '/')}`);
        if (type !== 'pki') throw badRequest(`plugin not found in the catalog: ${type}`);
        const m: Mount = {
          path,
          type: 'pki',
          description: str(req.body, 'description'),
          accessor: newAccessorFor('pki'),
          uuid: randomUUID(),
          defaultLeaseTtl: 0,
          maxLeaseTtl: 0,
          pki: newPkiState(),
        };
        applyTune(m, ttlsFrom(req.body));
        ns.mounts.set(path, m);
        return undefined;
      },
      delete: () => {
        ns.mounts.delete(path);
        return undefined;
      },
    };
  }

  const policy = /^(policy|policies\/acl)\/(.+)$/.exec(sub);
  if (policy) {
    const legacy = policy[1] === 'policy';
    const name = (policy[2] ?? '').toLowerCase();
    return {
      exists: () => ns.policies.has(name),
      read: () => {
        const p = ns.policies.get(name);
        if (!p) throw notFound();
        return { data: legacy ? { name, rules: p.raw } : { name, policy: p.raw } };
      },
      write: (req) => {
        if (name === 'root') throw badRequest('cannot update "root" policy');
        const raw = str(req.body, legacy ? 'rules' : 'policy') || str(req.body, 'policy');
        if (raw === '') throw badRequest("'policy' parameter not supplied or empty");
        ns.policies.set(name, parsePolicy(name, raw, ns.path));
        return undefined;
      },
      delete: () => {
        if (name === 'default') throw badRequest('cannot delete "default" policy');
        if (name === 'root') throw badRequest('cannot delete "root" policy');
        ns.policies.delete(name);
        return undefined;
      },
    };
  }
  if (sub === 'policy' || sub === 'policies/acl') {
    const keys = () => ['default', ...[...ns.policies.keys()].filter((k) => k !== 'default').sort(), ...(ns.path === '' ? ['root'] : [])];
    return { read: () => ({ data: { keys: keys(), policies: keys() } }), list: () => ({ data: { keys: keys() } }) };
  }

  const auth = /^auth\/(.+)$/.exec(sub);
  if (auth) {
    const path = mountPathOf(auth[1] ?? '');
    return {
      sudo: true,
      write: (req) => {
        const type = str(req.body, 'type');
        if (path === 'token/' || ns.auths.has(path)) throw badRequest(`path is already in use at auth/${path}`);
        if (type !== 'cert') throw badRequest(`plugin not found in the catalog: ${type}`);
        ns.auths.set(path, {
          path,
          type: 'cert',
          accessor: newAccessorFor('auth_cert'),
          uuid: randomUUID(),
          description: str(req.body, 'description'),
          certs: new Map(),
        });
        return undefined;
      },
      delete: () => {
        ns.auths.delete(path);
        return undefined;
      },
    };
  }
  if (sub === 'auth') {
    return {
      read: () => ({
        data: {
          'token/': {
            type: 'token',
            description: 'token based credentials',
            accessor: 'auth_token_root',
            config: { default_lease_ttl: 0, max_lease_ttl: 0 },
            local: false,
          },
          ...Object.fromEntries(
            [...ns.auths.values()].map((a) => [
              `${a.path}`,
              {
                type: a.type,
                description: a.description,
                accessor: a.accessor,
                uuid: a.uuid,
                config: { default_lease_ttl: 0, max_lease_ttl: 0 },
                local: false,
              },
            ]),
          ),
        },
      }),
    };
  }

  const nsMatch = /^namespaces\/(.+)$/.exec(sub);
  if (nsMatch) {
    const name = (nsMatch[1] ?? '').replace(/\/+$/, '');
    const childPath = `${ns.path}${name}/`;
    return {
      read: () => {
        const child = namespaces.get(childPath);
        if (!child) throw notFound();
        return { data: describeNamespace(child) };
      },
      write: (req) => {
        const meta =
          typeof req.body.custom_metadata === 'object' && req.body.custom_metadata !== null
            ? Object.fromEntries(Object.entries(req.body.custom_metadata as Record<string, unknown>).map(([k, v]) => [k, String(v)]))
            : {};
        return { data: describeNamespace(namespaces.create(ns, name, meta)) };
      },
      delete: () => {
        namespaces.delete(childPath);
        return undefined;
      },
    };
  }
  if (sub === 'namespaces') {
    const list = () => {
      const children = namespaces.children(ns);
      if (children.length === 0) return undefined;
      return {
        data: {
          keys: children.map((c) => c.path.slice(ns.path.length)).sort(),
          key_info: Object.fromEntries(children.map((c) => [c.path.slice(ns.path.length), describeNamespace(c)])),
        },
      };
    };
    return { list, read: list };
  }
  return undefined;
}

export { json };

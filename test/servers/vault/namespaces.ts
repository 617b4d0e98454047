import { randomBytes, randomUUID } from 'node:crypto';
import { badRequest } from './errors.js';
import { type Policy, DEFAULT_POLICY_HCL, parsePolicy } from './policy.js';
import { type PkiState } from './pki/backend.js';

/** A trusted certificate entry of the cert auth method (auth/cert/certs/<name>). */
export interface CertRole {
  name: string;
  certificate: string;
  policies: string[];
  ttl: number;
  maxTtl: number;
  period: number;
  displayName: string;
  allowedCommonNames: string[];
}

export interface Mount {
  /** With trailing slash, relative to its namespace: "kmesh-pki-default/". */
  path: string;
  type: 'pki';
  description: string;
  accessor: string;
  uuid: string;
  /** Seconds; 0 = inherit the system value (768h). */
  defaultLeaseTtl: number;
  maxLeaseTtl: number;
  pki: PkiState;
}

export interface AuthMount {
  path: string; // "cert/"
  type: 'cert';
  accessor: string;
  uuid: string;
  description: string;
  certs: Map<string, CertRole>;
}

export interface Namespace {
  id: string;
  /** "" for the root namespace, "team-a/" (or "a/b/") otherwise. */
  path: string;
  mounts: Map<string, Mount>;
  auths: Map<string, AuthMount>;
  policies: Map<string, Policy>;
  customMetadata: Record<string, string>;
}

export function shortId(): string {
  return randomBytes(4).toString('base64url').replace(/[-_]/g, 'x').slice(0, 5);
}

export function newAccessorFor(type: string): string {
  return `${type}_${randomBytes(4).toString('hex')}`;
}

function newNamespace(path: string): Namespace {
  const ns: Namespace = {
    id: path === '' ? 'root' : shortId(),
    path,
    mounts: new Map(),
    auths: new Map(),
    policies: new Map(),
    customMetadata: {},
  };
  ns.policies.set('default', parsePolicy('default', DEFAULT_POLICY_HCL, path));
  return ns;
}

/** Normalises an X-Vault-Namespace value ("team-a", "/team-a/", "root") to "team-a/". */
export function normaliseNsPath(raw: string | undefined): string {
  const trimmed = (raw ?? '').trim().replace(/^\/+|\/+$/g, '');
  if (trimmed === '' || trimmed === 'root') return '';
  return `${trimmed}/`;
}

export class Namespaces {
  private readonly byPath = new Map<string, Namespace>([['', newNamespace('')]]);

  get root(): Namespace {
    return this.byPath.get('') as Namespace;
  }

  get(path: string): Namespace | undefined {
    return this.byPath.get(path);
  }

  create(parent: Namespace, name: string, customMetadata: Record<string, string>): Namespace {
    const clean = name.replace(/^\/+|\/+$/g, '');
    if (clean === '' || (clean.includes('/') && clean.split('/').some((s) => s === '')))
      throw badRequest('namespace path must not be empty');
    const path = `${parent.path}${clean}/`;
    const existing = this.byPath.get(path);
    if (existing) return existing;
    // Nested paths need their intermediate namespaces to exist, as in Vault.
    const parentPath = path.slice(0, path.slice(0, -1).lastIndexOf('/') + 1);
    if (!this.byPath.has(parentPath)) throw badRequest(`parent namespace ${parentPath} does not exist`);
    const ns = newNamespace(path);
    ns.customMetadata = customMetadata;
    this.byPath.set(path, ns);
    return ns;
  }

  delete(path: string): boolean {
    if (path === '') return false;
    for (const p of this.byPath.keys()) {
      if (p !== path && p.startsWith(path)) throw badRequest(`cannot delete namespace ("${path}") containing child namespaces`);
    }
    return this.byPath.delete(path);
  }

  children(parent: Namespace): Namespace[] {
    return [...this.byPath.values()].filter(
      (n) => n.path !== parent.path && n.path.startsWith(parent.path) && !n.path.slice(parent.path.length, -1).includes('/'),
    );
  }
}

export function describeNamespace(ns: Namespace): Record<string, unknown> {
  return { id: ns.id, path: ns.path, custom_metadata: ns.customMetadata };
}

export { randomUUID };

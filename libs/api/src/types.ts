import type { BackendConfs, BackendType } from './backends/index.js';

export type { AcmpcaConf, BackendType, BuiltinConf, CertManagerConf, ProvidedConf, VaultConf } from './backends/index.js';
export type { DataSource } from './datasource.js';
// The internal resource model. Both input forms (Universal and Kubernetes) parse to this.

export const RESOURCE_TYPES = [
  'Mesh',
  'Secret',
  'GlobalSecret',
  'Zone',
  'Dataplane',
  'ZoneInsight',
  'MeshIdentity',
  'DataplaneInsight',
  'MeshTrust',
  'MeshTLS',
  'MeshInsight',
] as const;
export type ResourceType = (typeof RESOURCE_TYPES)[number];

/** Types that live inside a mesh: their key includes the mesh name. */
export const MESH_SCOPED: ReadonlySet<ResourceType> = new Set<ResourceType>([
  'Secret',
  'Dataplane',
  'MeshIdentity',
  'DataplaneInsight',
  'MeshTrust',
  'MeshTLS',
]);

export interface ResourceKey {
  type: ResourceType;
  name: string;
  /** Set for mesh-scoped types only. */
  mesh?: string;
}

export interface ResourceMeta extends ResourceKey {
  labels: Record<string, string>;
  /** ISO-8601 timestamps, set by the store. */
  creationTime: string;
  modificationTime: string;
  /** The store revision at which this resource was last written (like etcd's mod_revision). */
  version: number;
}

export interface Resource<S = ResourceSpec> {
  meta: ResourceMeta;
  spec: S;
}

/** What a caller hands to a store: the store fills in times and version. */
export interface ResourceInput<S = ResourceSpec> {
  meta: ResourceKey & { labels?: Record<string, string> };
  spec: S;
}

export type ResourceSpec = MeshSpec | SecretSpec | ZoneSpec | DataplaneSpec | ZoneInsightSpec | GenericSpec;

export type GenericSpec = Record<string, unknown>;

// ---- Mesh
export type BackendMode = 'STRICT' | 'PERMISSIVE';
export type BackendConf = BackendConfs[BackendType];

export interface MtlsBackend<C extends BackendConf = BackendConf> {
  name: string;
  /** Normalised: `acm` is read as `acmpca`. */
  type: BackendType;
  mode?: BackendMode;
  dpCert?: { rotation?: { expiration?: string }; requestTimeout?: string };
  rootChain?: { requestTimeout?: string };
  conf: C;
}

export interface Mtls {
  enabledBackend?: string;
  skipValidation?: boolean;
  backends: MtlsBackend[];
}

/** Mesh fields other than mtls (meshServices, networking, ...) are kept as they came. */
export interface MeshSpec {
  mtls?: Mtls;
  [field: string]: unknown;
}

// ---- Secrets: `data` is base64, as in Kuma.
export interface SecretSpec {
  data: string;
}

export interface ZoneSpec {
  enabled?: boolean;
}

export interface DataplaneInbound {
  port: number;
  servicePort?: number;
  address?: string;
  tags: Record<string, string>;
}

/** A gateway Dataplane's role (Kuma's networking.gateway): no inbounds, its service in `tags`. */
export interface DataplaneGateway {
  /** Default DELEGATED. */
  type?: 'DELEGATED' | 'BUILTIN';
  tags: Record<string, string>;
}

export interface DataplaneSpec {
  networking: {
    address: string;
    /** Absent for a gateway. */
    inbound?: DataplaneInbound[];
    gateway?: DataplaneGateway;
    outbound?: unknown[];
  };
}

/** Written by zones; its shape grows as later capabilities report more. */
export interface ZoneInsightSpec {
  [field: string]: unknown;
}

/**
 * Written by global per mesh (named after it) and sent to every zone: what the mesh's dataplanes,
 * in every zone, hold and trust. Zones wait for it before moving dataplanes to a new CA.
 */
export interface MeshInsightSpec {
  dataplanes: { total: number; online: number };
  mTLS: {
    /** Per issuing backend or MeshIdentity (KRI): connected dataplanes holding its certificates. */
    issuedBackends: Record<string, number>;
    /**
     * SHA-256 fingerprints of the CA certificates that every connected dataplane of the mesh, in
     * every zone, has in its trust bundle. Empty while a zone is offline (what it holds is unknown).
     */
    trustedEverywhere: string[];
    /** Why trustedEverywhere is incomplete, when it is. */
    pending?: string;
  };
}

/** Written by a zone per connected dataplane (certificate state); free-form, as in Kuma. */
export interface DataplaneInsightSpec {
  [field: string]: unknown;
}

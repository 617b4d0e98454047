import type { DataSource, FieldError, MtlsBackend, Resource, ResourceKey } from '@meshca/api';
import type { Logger } from '@meshca/common';
import type { IssuerPool } from '@meshca/pki';

/** The identity a certificate is issued for. */
export interface DataplaneIdentity {
  mesh: string;
  /** Dataplane name, for logs and insight only: it is not put in the certificate. */
  name: string;
  /** Tag name to the set of values across the dataplane's inbounds; must contain kuma.io/service. */
  tags: Record<string, string[]>;
  /** The Dataplane's labels (MeshIdentity selectors and SPIFFE ID templates read them). */
  labels?: Record<string, string>;
}

export interface IssueRequest {
  identity: DataplaneIdentity;
  /** Requested validity; from the backend's dpCert.rotation.expiration (default 24h). */
  ttlSeconds: number;
  /** The URI SANs to put in the certificate instead of the Mesh.mtls ones (a MeshIdentity's SPIFFE ID). */
  uriSans?: string[];
  /**
   * PEM CSR from the dataplane, so its key never leaves it. When absent the backend
   * (or the control plane on its behalf) makes the key and returns it.
   */
  csrPem?: string;
}

export interface IssuedCertificate {
  /** Leaf first, then any intermediates; PEM. */
  certChainPem: string;
  /** PKCS#8 PEM; absent when the request carried a CSR. */
  keyPem?: string;
  /** Hex, lower case. */
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

export interface BackendHealth {
  ok: boolean;
  /** What is wrong, in words an operator can act on; never a secret. */
  reason?: string;
  checkedAt: Date;
}

/** What a backend's client to a remote CA is doing, for metrics; local CAs have none. */
export interface CaClientState {
  /** Requests to the CA running now. */
  inFlight: number;
  /** Requests waiting for one of the backend's in-flight slots. */
  queued: number;
  /** Requests sent again after a failure (throttling, 5xx, network, a refused Vault token) since it was opened. */
  retries: number;
  /** Requests sleeping in backoff before their next attempt. */
  backingOff: number;
  /** Vault: seconds the token has left; absent when it does not expire or is not known. */
  tokenTtlSeconds?: number;
}

/**
 * One CA behind one small interface; builtin, provided, vault and acmpca implement it.
 * An instance is bound to one (mesh, backend) pair.
 */
export interface CaBackend {
  readonly mesh: string;
  readonly name: string;
  readonly type: MtlsBackend['type'];
  /** Trust roots of this backend, root and intermediates, PEM, for the mesh's trust bundle. */
  roots(): Promise<string[]>;
  issue(request: IssueRequest): Promise<IssuedCertificate>;
  health(): Promise<BackendHealth>;
  /** The state of its client to a remote CA (Vault, ACM PCA); absent for local CAs. */
  clientState?(): CaClientState;
  close(): Promise<void>;
}

/** Reads a DataSource (secret/file/inline/inlineString) to bytes; secrets of the backend's mesh, then global. */
export type DataSourceReader = (source: DataSource, field: string) => Promise<Buffer>;

export interface BackendContext {
  mesh: string;
  backend: MtlsBackend;
  readDataSource: DataSourceReader;
}

/** Reads resources by key; a ResourceStore's `get` fits. */
export type ResourceGetter = (key: ResourceKey) => Promise<Resource | undefined>;

/** What a backend may use of the control plane that runs it. */
export interface BackendEnv {
  /** Reads Secrets and GlobalSecrets (the control plane's store). */
  get: ResourceGetter;
  /** Worker threads for local signing (builtin, provided). */
  pool?: IssuerPool;
  log?: Logger;
}

/**
 * One type of CA backend, as a control plane runs it: how to open it, and what global checks
 * before it stores a new or changed backend of this type. Each backend's folder exports one; the
 * registry in plugins.ts lists them (its conf's shape is in libs/api/src/backends/<type>.ts).
 */
export interface CaPlugin {
  /** Opens the CA behind one backend of one mesh. */
  open(ctx: BackendContext, env: BackendEnv): Promise<CaBackend>;
  /**
   * Checks a new or changed backend can serve, on global before the Mesh is stored. Returns the
   * failing fields (under `field`, the backend's path); `skipTestCertificate` is the Mesh's
   * mtls.skipValidation for backends that prove themselves with a test certificate.
   */
  check(ctx: BackendContext, field: string, opts: { env: BackendEnv; skipTestCertificate: boolean }): Promise<FieldError[]>;
}

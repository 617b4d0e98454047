import type { DataSource, MtlsBackend } from '@meshca/api';

/** The identity a certificate is issued for. */
export interface DataplaneIdentity {
  mesh: string;
  /** Dataplane name, for logs and insight only: it is not put in the certificate. */
  name: string;
  /** Tag name to the set of values across the dataplane's inbounds; must contain kuma.io/service. */
  tags: Record<string, string[]>;
}

export interface IssueRequest {
  identity: DataplaneIdentity;
  /** Requested validity; from the backend's dpCert.rotation.expiration (default 24h). */
  ttlSeconds: number;
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
  close(): Promise<void>;
}

/** Reads a DataSource (secret/file/inline/inlineString) to bytes; secrets of the backend's mesh, then global. */
export type DataSourceReader = (source: DataSource, field: string) => Promise<Buffer>;

export interface BackendContext {
  mesh: string;
  backend: MtlsBackend;
  readDataSource: DataSourceReader;
}

// What issuance reports as it goes, for metrics. The zone implements it with prom-client; the
// identity service calls it and stays free of any metrics library.

/** One CA a certificate is issued through: a Mesh.mtls backend, or a MeshIdentity (its KRI). */
export interface IssuanceTarget {
  mesh: string;
  backend: string;
  type: string;
}

/**
 * Why an attempt failed: the CA could not be opened, refused the request (denied, misconfigured:
 * retried slowly), failed in a way worth retrying, the dataplane sent no CSR in time, or anything else.
 */
export type IssuanceFailureReason = 'ca_unavailable' | 'ca_refused' | 'ca_error' | 'csr_timeout' | 'internal';

export interface IssuanceObserver {
  /** A call to the CA to issue starts; the returned function is called once when it ends (ok or not). */
  caCall(target: IssuanceTarget): (ok: boolean) => void;
  /** A call to the CA for its root chain (when a backend is opened) starts; the same. */
  rootsCall(target: IssuanceTarget): (ok: boolean) => void;
  /** An issuance attempt failed; `target` is absent when it failed before a CA was chosen. */
  failed(mesh: string, target: IssuanceTarget | undefined, reason: IssuanceFailureReason): void;
}

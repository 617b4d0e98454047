// One dataplane as the zone serves it, in parts each owned by one module: its connection
// (connections.ts), what it holds and when it is next issued (issuance.ts), the roots and bundle it
// trusts (trust.ts), and the versions of its store records (records.ts).
import type { CertificateFacts } from './certificate-facts.js';
import type { WebSocket } from 'ws';
import type { DataplaneIdentity } from '@meshca/ca';
import type { TrustBundle } from './trust-bundle.js';

/** The connection (connections.ts). */
export interface Link {
  ws: WebSocket | undefined;
  /** Answered the last ping. */
  alive: boolean;
  /** CSR mode: the dataplane keeps its key and answers csr-request. */
  readonly csr: boolean;
  /** A CSR sent with register, used for the first issuance. */
  firstCsr: string | undefined;
  csrWaiter: ((csr: string | undefined) => void) | undefined;
  /** After a disconnect: removes its records when it has not come back within the grace period. */
  removal: NodeJS.Timeout | undefined;
  connectedAt: number;
  disconnectedAt: number | undefined;
}

/** The certificate the dataplane holds, and what it was issued from (issuance.ts). */
export interface Held {
  /** The backend name, or the KRI of the MeshIdentity, that issued it (the insight's issuedBackend). */
  backend: string | undefined;
  /** The MeshIdentity that issued it, when one did. */
  identity: string | undefined;
  serial: string | undefined;
  notAfter: number | undefined;
  /** When it is to be renewed (between 50% and 80% of its lifetime). */
  renewAt: number | undefined;
  /** The mesh's `enabledFp` it was issued under: another one means re-issue. */
  issuedFrom: string | undefined;
  regenerations: number;
  lastIssuedAt: number | undefined;
  /** Its names, SANs and chain, for the insight. */
  facts: CertificateFacts | undefined;
}

/**
 * The next issuance attempt (issuance.ts). The invariant: while connected, an issuance is in
 * flight or `timer` is armed, and while the held certificate is valid `dueAt` is before notAfter.
 */
export interface Plan {
  issuing: boolean;
  /** The Mesh changed during an issuance: decide again when it ends. */
  again: boolean;
  timer: NodeJS.Timeout | undefined;
  /** When `timer` fires. */
  dueAt: number | undefined;
  attempt: number;
  /** What the dataplane was last told it waits for; undefined once it is issued. */
  waiting: string | undefined;
  /** A MeshIdentity selects it but it is not moved to it yet, and why (see source.ts). */
  pending: string | undefined;
  lastError: { message: string; at: string } | undefined;
}

/** The roots its certificate chains to (counted in its mesh's held roots) and the bundle it holds (trust.ts). */
export interface Trust {
  roots: readonly string[] | undefined;
  bundle: TrustBundle | undefined;
  /** What it said it trusts when it connected (its bundle's fingerprints), until `bundle` is sent. */
  reported: readonly string[] | undefined;
}

/** The MeshTLS settings last sent to it (policy.ts), as JSON. */
export interface Policy {
  sent: string | undefined;
}

/** Versions of its Dataplane and DataplaneInsight in the store (records.ts). */
export interface Records {
  dpVersion: number | undefined;
  insightVersion: number | undefined;
}

export interface Session {
  /** `<mesh>/<name>` */
  readonly id: string;
  readonly identity: DataplaneIdentity;
  readonly link: Link;
  readonly held: Held;
  readonly plan: Plan;
  readonly trust: Trust;
  readonly policy: Policy;
  readonly records: Records;
}

export function newSession(
  ws: WebSocket | undefined,
  identity: DataplaneIdentity,
  opts: { csr: boolean; firstCsr?: string; heldNotAfter?: number; trustedCaFingerprints?: readonly string[]; previous?: Session },
): Session {
  const { previous } = opts;
  return {
    id: `${identity.mesh}/${identity.name}`,
    identity,
    link: {
      ws,
      alive: true,
      csr: opts.csr,
      firstCsr: opts.firstCsr,
      csrWaiter: undefined,
      removal: undefined,
      connectedAt: Date.now(),
      disconnectedAt: undefined,
    },
    // What it says it holds bounds the retries until this zone issues it one (at once).
    held: {
      backend: undefined,
      identity: undefined,
      serial: undefined,
      notAfter: opts.heldNotAfter,
      renewAt: undefined,
      issuedFrom: undefined,
      regenerations: previous?.held.regenerations ?? 0,
      lastIssuedAt: undefined,
      facts: undefined,
    },
    plan: {
      issuing: false,
      again: false,
      timer: undefined,
      dueAt: undefined,
      attempt: 0,
      waiting: undefined,
      pending: undefined,
      lastError: undefined,
    },
    // Until it is issued again, the dataplane still presents the certificate of its previous connection.
    trust: {
      roots: previous?.trust.roots,
      bundle: undefined,
      reported: opts.trustedCaFingerprints ?? previous?.trust.bundle?.caFingerprints ?? previous?.trust.reported,
    },
    policy: { sent: undefined },
    records: { dpVersion: previous?.records.dpVersion, insightVersion: previous?.records.insightVersion },
  };
}

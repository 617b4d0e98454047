// The dataplane identity wire format between meshca-dp (or any client) and its zone: JSON text
// frames over one WebSocket, the types and their decoders. See docs/dataplanes.md.

export const DATAPLANE_PATH = '/dataplanes';
export const IDENTITY_PROTOCOL_VERSION = 1;

/** WebSocket close codes; the reason text says what to do. */
export const DP_CLOSE = {
  goingAway: 1001,
  badRequest: 4400,
  forbidden: 4403,
  registerTimeout: 4408,
  replaced: 4409,
} as const;

/** A Dataplane in Universal form, as in dp.yaml. */
export interface DataplaneDocument {
  type?: 'Dataplane';
  mesh: string;
  name: string;
  /** Matched by MeshIdentity selectors and MeshTLS targetRefs (with the inbound tags); `kuma.io/workload` names the workload. */
  labels?: Record<string, string>;
  networking: {
    address: string;
    /** Absent for a gateway. */
    inbound?: { port: number; servicePort?: number; address?: string; tags: Record<string, string> }[];
    /** A gateway (Kuma's DELEGATED, e.g. a Kong Gateway in front of the mesh, or BUILTIN): its service is in `tags`. */
    gateway?: { type?: 'DELEGATED' | 'BUILTIN'; tags: Record<string, string> };
    outbound?: unknown[];
  };
}

// ---- dataplane -> zone

export interface RegisterMessage {
  type: 'register';
  dataplane: DataplaneDocument;
  /**
   * CSR mode: the dataplane keeps its key; the zone asks for a CSR (`csr-request`, naming the URI
   * SANs it must carry) at every issuance.
   */
  csr?: boolean;
  /** CSR mode with a first CSR sent at once; the zone asks again when it lacks the identity's URI SANs. */
  csrPem?: string;
  /**
   * When the certificate it still holds (from an earlier connection, maybe to another zone process)
   * expires, ISO 8601: the zone plans its retries before then even when it cannot issue at once.
   */
  heldNotAfter?: string;
  /**
   * SHA-256 (hex, of the DER) of each CA certificate in the bundle it still holds: until the zone
   * sends it one, global counts what it really trusts (a peer is moved to a new CA only once
   * every dataplane trusts that CA).
   */
  trustedCaFingerprints?: string[];
}

/** Answer to `csr-request`. */
export interface CsrMessage {
  type: 'csr';
  csrPem: string;
}

export type DataplaneMessage = RegisterMessage | CsrMessage;

// ---- zone -> dataplane

export interface RegisteredMessage {
  type: 'registered';
  protocol: number;
  mesh: string;
  name: string;
}

/** Nothing to issue yet (no such mesh, mTLS off, CA not synced); the zone sends `identity` when it can. */
export interface WaitingMessage {
  type: 'waiting';
  reason: string;
}

export interface IdentityMessage {
  type: 'identity';
  /** Leaf first, then intermediates. */
  certChainPem: string;
  /** PKCS#8; absent in CSR mode. */
  keyPem?: string;
  /** The roots (with chains) of every backend of the mesh. */
  bundlePem: string;
  bundleBackends: string[];
  backend: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

/** The mesh's backends changed: trust this bundle from now on (the certificate is unchanged). */
export interface BundleMessage {
  type: 'bundle';
  bundlePem: string;
  bundleBackends: string[];
}

/** CSR mode: send a `csr` for a fresh key, asking for exactly these URI SANs (a Vault role signs the CSR's own). */
export interface CsrRequestMessage {
  type: 'csr-request';
  uriSans: string[];
}

/** Issuance failed; the current certificate stays valid and the zone retries after `retryInMs`. */
export interface IssueErrorMessage {
  type: 'error';
  message: string;
  retryInMs: number;
}

/**
 * How the dataplane's inbound treats traffic (MeshTLS): Strict takes mTLS only, Permissive takes
 * plaintext too. Sent after `registered` and whenever it changes.
 */
export interface TlsMessage {
  type: 'tls';
  mode: 'Strict' | 'Permissive';
  /** TLS versions as MeshTLS names them (TLS12, TLS13); absent: Node's defaults. */
  minVersion?: string;
  maxVersion?: string;
  /** OpenSSL cipher names; absent: Node's defaults. */
  ciphers?: string[];
  /** The MeshTLS policies that shaped it, least specific first; empty for the default. */
  policies: string[];
}

/** The zone will not serve this dataplane; the connection closes after it. */
export interface RefusedMessage {
  type: 'refused';
  reason: 'bad-request' | 'forbidden';
  message: string;
}

export type ZoneMessage =
  | RegisteredMessage
  | WaitingMessage
  | IdentityMessage
  | BundleMessage
  | CsrRequestMessage
  | IssueErrorMessage
  | TlsMessage
  | RefusedMessage;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a frame from a dataplane; throws an Error naming the field when it is not a valid message. */
export function decodeDataplaneMessage(text: string): DataplaneMessage {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new Error('message is not JSON');
  }
  if (!isRecord(v)) throw new Error('message must be a JSON object');
  if (v.type === 'csr') {
    if (typeof v.csrPem !== 'string') throw new Error('csr.csrPem must be a PEM certificate request');
    return { type: 'csr', csrPem: v.csrPem };
  }
  if (v.type !== 'register') throw new Error(`message type must be "register" or "csr" (got ${JSON.stringify(v.type)})`);
  if (v.csrPem !== undefined && typeof v.csrPem !== 'string') throw new Error('register.csrPem must be a PEM certificate request');
  if (v.csr !== undefined && typeof v.csr !== 'boolean') throw new Error('register.csr must be true or false');
  if (v.heldNotAfter !== undefined && (typeof v.heldNotAfter !== 'string' || Number.isNaN(Date.parse(v.heldNotAfter)))) {
    throw new Error('register.heldNotAfter must be an ISO 8601 time (the notAfter of the certificate the dataplane holds)');
  }
  const fps = v.trustedCaFingerprints;
  if (
    fps !== undefined &&
    (!Array.isArray(fps) || fps.length > 256 || !fps.every((f) => typeof f === 'string' && /^[0-9a-f]{64}$/.test(f)))
  ) {
    throw new Error('register.trustedCaFingerprints must be a list of at most 256 SHA-256 fingerprints (64 lower-case hex digits each)');
  }
  const dp = v.dataplane;
  if (!isRecord(dp)) throw new Error('register.dataplane must be a Dataplane resource (mesh, name, networking)');
  return {
    type: 'register',
    dataplane: dp as unknown as DataplaneDocument,
    ...(v.csr === true ? { csr: true } : {}),
    ...(typeof v.csrPem === 'string' ? { csrPem: v.csrPem } : {}),
    ...(typeof v.heldNotAfter === 'string' ? { heldNotAfter: v.heldNotAfter } : {}),
    ...(Array.isArray(fps) ? { trustedCaFingerprints: fps as string[] } : {}),
  };
}

/** Parses a frame from the zone (agent side). */
export function decodeZoneMessage(text: string): ZoneMessage {
  const v: unknown = JSON.parse(text);
  if (!isRecord(v) || typeof v.type !== 'string') throw new Error('zone message must be a JSON object with a type');
  return v as unknown as ZoneMessage;
}

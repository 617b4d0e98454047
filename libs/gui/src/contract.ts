// What the GUI's JSON endpoints answer (under /gui/api): the one contract between the server views
// (src/*.ts) and the browser (web/). Types only, so the browser bundle carries none of the server.

/** GET /gui/api/overview */
export interface Overview {
  mode: 'global' | 'zone';
  /** On a zone's GUI: its name. */
  zone?: string;
  version: string;
  zones: ZoneSummary[];
  meshes: MeshSummary[];
  /** `online` false: the zone is offline, and its counts are what it reported last. */
  dataplanesByZone: { zone: string; total: number; connected: number; online: boolean }[];
  /**
   * Connected dataplanes with less than 1/5 of their certificate's lifetime left: renewal starts by
   * 4/5, so these are late (the soonest first, at most 10). The dataplanes view's `expiresWithin=soon`.
   */
  expiringSoon: { total: number; items: DataplaneRow[] };
  /** Zones offline or refusing, backends that cannot be opened, dataplanes failing: each links to its detail. */
  problems: Problem[];
}

export interface Problem {
  kind: 'zone-offline' | 'zone-nack' | 'backend-unavailable' | 'issuance-failing' | 'certificate-expired';
  message: string;
  /** The GUI route that shows it, e.g. "#/zones" or "#/meshes/default". */
  link: string;
}

export interface ZoneSummary {
  name: string;
  online: boolean;
  /** ISO-8601: last message or pong (online), or when it went away (offline). */
  lastSeen?: string;
  ackedRevision?: number;
  sentRevision?: number;
  nacks: number;
}

export interface MeshSummary {
  name: string;
  enabledBackend?: string;
  backends: { name: string; type: string }[];
  identities: number;
  dataplanes: number;
}

/** GET /gui/api/zones */
export interface ZonesView {
  items: ZoneDetail[];
}

export interface ZoneDetail extends ZoneSummary {
  connectedAt?: string;
  disconnectedAt?: string;
  lastDisconnect?: string;
  software?: { name: string; version: string };
  /** Revisions sent and not ACKed yet. */
  lag?: number;
  nackList: { revision: number; reason: string; at: string }[];
  /** Zone versions global refused. */
  refused: { revision: number; reason: string; at: string }[];
  /** The zone replica holding the stream, and the global replica it streams to. */
  leader?: string;
  replica?: string;
  /** The CA backends the zone runs, as it reported them. */
  backends: ZoneBackendState[];
}

export interface ZoneBackendState {
  mesh: string;
  backend: string;
  type: string;
  available: boolean;
  /** Why it cannot be opened. */
  error?: string;
  /** The CA certificate the backend's certificates chain to (its first root). */
  ca?: { subject: string; notAfter: string };
}

/** GET /gui/api/meshes/{mesh} */
export interface MeshView {
  name: string;
  enabledBackend?: string;
  /** Mesh.mtls.skipValidation: global did not issue a test certificate when the backend was applied. */
  skipValidation: boolean;
  /** Connected counts only zones that are online; `inOfflineZones` were connected when their zone last reported. */
  dataplanes: { total: number; connected: number; inOfflineZones: number };
  /** Zones that are offline: what they reported last is shown, and may be out of date. */
  offlineZones: string[];
  backends: BackendView[];
  /** Per backend and zone: how far a rotation has come (what `meshctl inspect mesh` prints). */
  rotation: RotationRow[];
  /** The steps of a CA rotation that may be taken next, or why not (global only: its validators decide). */
  steps: RotationStepView[];
  identities: IdentityView[];
  trusts: TrustView[];
  /** Why not every CA is trusted everywhere yet (MeshInsight). */
  pending?: string;
}

export interface BackendView {
  name: string;
  type: string;
  enabled: boolean;
  /** Global checks a new or changed backend before storing the Mesh (a test certificate for Vault and ACM PCA). */
  validation: string;
  ca?: { subject: string; notAfter: string };
  /** What each zone that runs it reported (`online` false: last reported, the zone is offline). */
  zones: { zone: string; online: boolean; available: boolean; error?: string; ca?: { subject: string; notAfter: string } }[];
}

export interface RotationRow {
  backend: string;
  type: string;
  enabled: boolean;
  zone: string;
  dataplanes: number;
  trusting: number;
  holding: number;
  expired: number;
}

export interface RotationStepView {
  step: 'add' | 'switch' | 'remove' | 'disable';
  backend?: string;
  /** In words: "switch enabledBackend to ca-2". */
  title: string;
  allowed: boolean;
  /** Why it may not be taken now (the validators' messages). */
  reasons: string[];
}

export interface IdentityView {
  name: string;
  zones: { zone: string; kri: string; trustDomain?: string; ready: boolean; reason?: string; dataplanes: number }[];
}

export interface TrustView {
  name: string;
  zone: string;
  trustDomain: string;
  cas: number;
  trusting: number;
  connected: number;
}

/** GET /gui/api/dataplanes?mesh=&zone=&service=&backend=&expiresWithin=(seconds|1h|soon)&errors=1&q=&sort=&offset=&size= */
export interface DataplanePage {
  total: number;
  offset: number;
  size: number;
  items: DataplaneRow[];
  /** The values each filter can take, over every dataplane (not only this page). */
  facets: { meshes: string[]; zones: string[]; services: string[]; backends: string[] };
}

export type DataplaneSort = 'expiry' | 'name';

export interface DataplaneRow {
  mesh: string;
  name: string;
  zone: string;
  service: string;
  connected: boolean;
  backend?: string;
  serial?: string;
  notAfter?: string;
  lastError?: string;
  /** Its zone is offline: this is what the zone reported last (global only). */
  zoneOffline?: boolean;
}

/** GET /gui/api/dataplanes/{mesh}/{name} */
export interface DataplaneDetail extends DataplaneRow {
  tags: Record<string, string[]>;
  address?: string;
  connectedAt?: string;
  disconnectedAt?: string;
  lastRegeneration?: string;
  regenerations?: number;
  /** Backends whose roots are in its trust bundle. */
  trusts: string[];
  pending?: string;
  certificate?: {
    subject: string;
    issuer: string;
    notBefore: string;
    uriSans: string[];
    dnsSans?: string[];
    sha256: string;
    chain: { subject: string; issuer: string; notAfter: string; sha256: string }[];
  };
}

/** The events feed (GET /gui/api/events, text/event-stream): `event: change` with this as data. */
export interface ChangeEvent {
  /** Changes when any data a view shows may have changed. */
  version: string;
}

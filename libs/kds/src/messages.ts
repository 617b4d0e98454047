// The KDS wire format: JSON text frames over one WebSocket. See docs/kds-protocol.md.
import { VERSION } from '@meshca/common';
import { MESH_SCOPED, RESOURCE_TYPES, type ResourceInput, type ResourceKey, type ResourceType } from '@meshca/api';

export const KDS_PROTOCOL_VERSION = 1;
export const KDS_PATH = '/kds';

/** Types global sends down. Later CA material types are appended here. */
export const KDS_GLOBAL_TO_ZONE: readonly ResourceType[] = ['Mesh', 'Secret', 'GlobalSecret'];
/** Types a zone may push up; anything else is NACKed and never applied. */
export const KDS_ZONE_TO_GLOBAL: readonly ResourceType[] = ['Dataplane', 'ZoneInsight', 'DataplaneInsight'];

/** On global, a zone's resources carry this label with the zone's name. */
export const ZONE_LABEL = 'kuma.io/zone';

/** WebSocket close codes; the reason text says what to do. */
export const CLOSE = {
  goingAway: 1001,
  tooBig: 1009,
  badRequest: 4400,
  unauthenticated: 4401,
  forbidden: 4403,
  heartbeatTimeout: 4408,
  duplicateZone: 4409,
  internal: 4500,
} as const;

export interface Software {
  name: string;
  version: string;
}

export type Change = { op: 'upsert'; resource: ResourceInput } | { op: 'delete'; key: ResourceKey };

/** zone -> global, first message. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  zone: string;
  /** Last global revision the zone applied; 0 when it holds nothing. */
  lastRevision: number;
  /** Epoch of global's store that revision belongs to (absent: unknown); another epoch means a snapshot. */
  globalEpoch?: string;
  software: Software;
}

/** global -> zone, answer to hello. */
export interface WelcomeMessage {
  type: 'welcome';
  protocol: number;
  zone: string;
  /** Epoch of global's store (see ResourceStore.epoch): a zone holding another one was synced from data global no longer has. */
  epoch?: string;
  /** The port of global's HTTP API, so a zone can say where to apply (at the host it dialled for sync). */
  apiPort?: number;
  software: Software;
}

/**
 * The whole state of `types` at `version`, split in parts that fit the size limit.
 * The receiver applies it when `final` arrives, and removes what it holds of `types` that is not in it.
 */
export interface SnapshotMessage {
  type: 'snapshot';
  version: number;
  types: ResourceType[];
  part: number;
  final: boolean;
  resources: ResourceInput[];
}

/** The changes in revisions (since, version], oldest first. */
export interface DeltaMessage {
  type: 'delta';
  version: number;
  since: number;
  changes: Change[];
}

export interface AckMessage {
  type: 'ack';
  version: number;
}

export interface NackMessage {
  type: 'nack';
  version: number;
  reason: string;
}

export type DataMessage = SnapshotMessage | DeltaMessage;
export type KdsMessage = HelloMessage | WelcomeMessage | DataMessage | AckMessage | NackMessage;

export const DEFAULT_SOFTWARE: Software = { name: 'meshca', version: VERSION };

/** The text of a ws frame (ws hands over a Buffer, an ArrayBuffer or fragments). */
export function frameText(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
}

/** WebSocket close reasons are at most 123 bytes. */
export function truncate(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason;
  let out = reason;
  while (Buffer.byteLength(`${out}…`) > 123) out = out.slice(0, -1);
  return `${out}…`;
}

export function encode(msg: KdsMessage): string {
  return JSON.stringify(msg);
}

/** Parses and checks one frame; throws an Error saying which field is wrong. */
export function decode(raw: string): KdsMessage {
  let v: unknown;
  try {
    v = JSON.parse(raw);
  } catch {
    throw new Error('message is not JSON');
  }
  if (!isObject(v)) throw new Error('message must be a JSON object');
  const revision = (f: string) => {
    const n = v[f];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0)
      throw new Error(`${String(v.type)}.${f} must be a non-negative integer`);
    return n;
  };
  const str = (f: string) => {
    const s = v[f];
    if (typeof s !== 'string') throw new Error(`${String(v.type)}.${f} must be a string`);
    return s;
  };
  switch (v.type) {
    case 'hello':
      return {
        type: 'hello',
        protocol: revision('protocol'),
        zone: str('zone'),
        lastRevision: revision('lastRevision'),
        ...(v.globalEpoch === undefined ? {} : { globalEpoch: str('globalEpoch') }),
        software: software(v.software),
      };
    case 'welcome':
      return {
        type: 'welcome',
        protocol: revision('protocol'),
        zone: str('zone'),
        ...(v.epoch === undefined ? {} : { epoch: str('epoch') }),
        ...(v.apiPort === undefined ? {} : { apiPort: revision('apiPort') }),
        software: software(v.software),
      };
    case 'ack':
      return { type: 'ack', version: revision('version') };
    case 'nack':
      return { type: 'nack', version: revision('version'), reason: str('reason') };
    case 'snapshot': {
      if (!Array.isArray(v.types) || !v.types.every(isResourceType)) throw new Error('snapshot.types must list resource types');
      if (typeof v.final !== 'boolean') throw new Error('snapshot.final must be a boolean');
      if (!Array.isArray(v.resources)) throw new Error('snapshot.resources must be a list');
      return {
        type: 'snapshot',
        version: revision('version'),
        types: v.types,
        part: revision('part'),
        final: v.final,
        resources: v.resources.map((r, i) => resourceInput(r, `snapshot.resources[${i}]`)),
      };
    }
    case 'delta': {
      if (!Array.isArray(v.changes)) throw new Error('delta.changes must be a list');
      return {
        type: 'delta',
        version: revision('version'),
        since: revision('since'),
        changes: v.changes.map((c, i) => change(c, `delta.changes[${i}]`)),
      };
    }
    default:
      throw new Error(`unknown message type ${JSON.stringify(v.type)}`);
  }
}

function software(v: unknown): Software {
  if (!isObject(v) || typeof v.name !== 'string' || typeof v.version !== 'string') throw new Error('software must be {name, version}');
  return { name: v.name, version: v.version };
}

function change(v: unknown, path: string): Change {
  if (!isObject(v)) throw new Error(`${path} must be an object`);
  if (v.op === 'upsert') return { op: 'upsert', resource: resourceInput(v.resource, `${path}.resource`) };
  if (v.op === 'delete') return { op: 'delete', key: resourceKey(v.key, `${path}.key`) };
  throw new Error(`${path}.op must be "upsert" or "delete"`);
}

function resourceKey(v: unknown, path: string): ResourceKey {
  if (!isObject(v)) throw new Error(`${path} must be an object`);
  if (!isResourceType(v.type)) throw new Error(`${path}.type must be one of ${RESOURCE_TYPES.join(', ')}`);
  if (typeof v.name !== 'string' || v.name === '') throw new Error(`${path}.name must be a non-empty string`);
  const scoped = MESH_SCOPED.has(v.type);
  if (scoped && (typeof v.mesh !== 'string' || v.mesh === '')) throw new Error(`${path}.mesh is required for ${v.type}`);
  if (!scoped && v.mesh !== undefined) throw new Error(`${path}.mesh must not be set for ${v.type}`);
  return scoped ? { type: v.type, name: v.name, mesh: v.mesh as string } : { type: v.type, name: v.name };
}

function resourceInput(v: unknown, path: string): ResourceInput {
  if (!isObject(v)) throw new Error(`${path} must be an object`);
  const key = resourceKey(v.meta, `${path}.meta`);
  const labels = isObject(v.meta) ? v.meta.labels : undefined;
  if (labels !== undefined && !(isObject(labels) && Object.values(labels).every((l) => typeof l === 'string'))) {
    throw new Error(`${path}.meta.labels must map strings to strings`);
  }
  if (!isObject(v.spec)) throw new Error(`${path}.spec must be an object`);
  return { meta: { ...key, labels: (labels ?? {}) as Record<string, string> }, spec: v.spec };
}

function isResourceType(v: unknown): v is ResourceType {
  return typeof v === 'string' && (RESOURCE_TYPES as readonly string[]).includes(v);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

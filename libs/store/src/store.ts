import type { Resource, ResourceInput, ResourceKey, ResourceType } from '@meshca/api';

export interface ChangeEvent {
  /** Strictly increasing across the whole store; equals the written resource's version for upserts. */
  revision: number;
  op: 'upsert' | 'delete';
  key: ResourceKey;
  /** The resource as written; absent for deletes. */
  resource?: Resource;
}

export interface ListOptions {
  mesh?: string;
}

/** One write of a `commit`. */
export type StoreWrite = { op: 'create'; input: ResourceInput } | { op: 'update'; input: ResourceInput; expectedVersion: number };

/**
 * The one storage contract. Implementations: memory (default) and Redis.
 * Every write is atomic: it either happens whole, with one change event, or not at all.
 */
export interface ResourceStore {
  get(key: ResourceKey): Promise<Resource | undefined>;
  /** Sorted by mesh, then name. */
  list(type: ResourceType, opts?: ListOptions): Promise<Resource[]>;
  /** Rejects with ConflictError when the key exists. */
  create(input: ResourceInput): Promise<Resource>;
  /**
   * Rejects with NotFoundError when absent and with ConflictError when `expectedVersion`
   * is not the stored version: a stale writer is never silently overwritten.
   */
  update(input: ResourceInput, expectedVersion: number): Promise<Resource>;
  /** Rejects with NotFoundError when absent; with ConflictError on a stale `expectedVersion`. */
  delete(key: ResourceKey, expectedVersion?: number): Promise<void>;
  /**
   * Several writes as one (a Mesh and the Secrets of its new CA): either every check passes and all
   * are written, in the order given, with consecutive revisions and one change event each; or
   * nothing is written and it rejects as the first failing write would alone. Keys must differ.
   */
  commit(writes: readonly StoreWrite[]): Promise<Resource[]>;
  /** The revision of the newest change (0 for an empty store). */
  revision(): Promise<number>;
  /**
   * The id of this dataset: the same for every process sharing it and across restarts of a store
   * that keeps its data; a new one when the data was lost (a memory store's process restarted, a
   * Redis flushed or restarted without persistence). Revisions are only comparable within one epoch.
   */
  epoch(): Promise<string>;
  /**
   * Changes with revision > `after`, oldest first, at most `limit`.
   * 'compacted' when the feed no longer holds every change after `after`:
   * the caller must fall back to a full snapshot.
   */
  changesSince(after: number, limit?: number): Promise<ChangeEvent[] | 'compacted'>;
  /**
   * Calls `listener` for every change after `after`, in revision order, including writes made
   * by other processes sharing the same backing store. Returns a function that stops it.
   * When the feed no longer holds the next change (`after` is older than the retention window,
   * or the backing store lost its data), the watch stops and calls `onCompacted` (default: a
   * process warning): the caller re-lists and watches again from `revision()`.
   */
  watch(after: number, listener: (event: ChangeEvent) => void, onCompacted?: () => void): () => void;
  close(): Promise<void>;
  /**
   * This store, with every write refused (FencedError, nothing written) once `fence` no longer
   * holds: what a leader writes cannot land after another replica took the lease over (leader.ts).
   * Absent on a store only this process uses.
   */
  fenced?(fence: Fence): ResourceStore;
  /** Leases for leader election between processes sharing this store; absent on a store only this process uses. */
  leases?: LeaseBackend;
}

/** A lease as a write condition: the lease key must still hold exactly this value. */
export interface Fence {
  key: string;
  value: string;
}

export type LeaseState =
  | { held: true; value: string; token: number; ttlMs: number }
  | { held: false; holder: string; token: number; ttlMs: number }
  | { held: false; holder: undefined; token: undefined; ttlMs: 0 };

/** Named leases with fencing tokens, for `createLeaderElection`. */
export interface LeaseBackend {
  /**
   * Takes lease `name` for `holder` when it is free (a new, higher fencing token) or renews it when
   * `holder` has it already; otherwise says who has it and for how long.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<LeaseState>;
  /** Extends the lease while it still holds `value`; false once it does not. */
  renew(name: string, value: string, ttlMs: number): Promise<boolean>;
  /** Gives the lease up when it still holds `value`. */
  release(name: string, value: string): Promise<void>;
  /** Who holds lease `name` now. */
  read(name: string): Promise<LeaseState>;
  /** The fence of a held lease value. */
  fence(name: string, value: string): Fence;
}

/** A write refused because its fence no longer holds: another replica leads now. Nothing was written. */
export class FencedError extends Error {
  constructor(fence: Fence) {
    super(`write refused: this process no longer holds the lease ${fence.key} (another replica leads now)`);
    this.name = 'FencedError';
  }
}

export class NotFoundError extends Error {
  constructor(readonly key: ResourceKey) {
    super(`${key.type} ${describeKey(key)} not found`);
    this.name = 'NotFoundError';
  }
}

export class ConflictError extends Error {
  constructor(
    readonly key: ResourceKey,
    reason: string,
  ) {
    super(`${key.type} ${describeKey(key)}: ${reason}`);
    this.name = 'ConflictError';
  }
}

/** The store cannot be reached now (Redis down or restarting): try again shortly. Nothing was written. */
export class StoreUnavailableError extends Error {
  constructor(reason: string) {
    super(`the store is unavailable: ${reason}`);
    this.name = 'StoreUnavailableError';
  }
}

export function describeKey(key: ResourceKey): string {
  return key.mesh === undefined ? `"${key.name}"` : `"${key.name}" in mesh "${key.mesh}"`;
}

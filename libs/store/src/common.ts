// Helpers shared by the store implementations: key identity, input normalisation, ordering, delivery.
import { MESH_SCOPED, type Resource, type ResourceInput, type ResourceKey } from '@meshca/api';
import type { ChangeEvent, StoreWrite } from './store.js';

export const DEFAULT_FEED_RETENTION = 10_000;

/** The resource's identity within its type: `name` for global types, `mesh/name` for mesh-scoped ones. */
export function keyId(key: ResourceKey): string {
  // Encoding keeps a '/' inside a name from forging another mesh's key.
  return key.mesh === undefined ? encodeURIComponent(key.name) : `${encodeURIComponent(key.mesh)}/${encodeURIComponent(key.name)}`;
}

/** The bare key (no labels or other meta), after checking mesh is set exactly for mesh-scoped types. */
export function keyOf(key: ResourceKey): ResourceKey {
  const scoped = MESH_SCOPED.has(key.type);
  if (!key.name) throw new Error(`${key.type}: meta.name is required`);
  if (scoped && !key.mesh) throw new Error(`${key.type} "${key.name}": meta.mesh is required for a mesh-scoped type`);
  if (!scoped && key.mesh !== undefined)
    throw new Error(`${key.type} "${key.name}": meta.mesh must not be set, ${key.type} is not mesh-scoped`);
  return scoped ? { type: key.type, name: key.name, mesh: key.mesh as string } : { type: key.type, name: key.name };
}

/** What the store keeps of an input: the key, labels and spec; times and version are added by the store. */
export function normalizeInput(input: ResourceInput): ResourceInput {
  return { meta: { ...keyOf(input.meta), labels: { ...input.meta.labels } }, spec: input.spec };
}

export function now(): string {
  return new Date().toISOString();
}

/** Sorted by mesh, then name; plain code-unit order so every process sorts the same way. */
export function byMeshThenName(a: Resource, b: Resource): number {
  return compare(a.meta.mesh ?? '', b.meta.mesh ?? '') || compare(a.meta.name, b.meta.name);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function validRetention(value: number | undefined): number {
  const retention = value ?? DEFAULT_FEED_RETENTION;
  if (!Number.isInteger(retention) || retention < 1) throw new Error(`feedRetention must be a positive integer, got ${retention}`);
  return retention;
}

/** A listener's exception is the caller's bug: surface it as an uncaught error without breaking the watch loop. */
export function deliver(listener: (event: ChangeEvent) => void, event: ChangeEvent): void {
  try {
    listener(event);
  } catch (err) {
    queueMicrotask(() => {
      throw err;
    });
  }
}

/** Default for a watch that cannot continue because the feed no longer holds the next change. */
export function warnCompacted(after: number): void {
  process.emitWarning(`store watch stopped: changes after revision ${after} were compacted; re-list and watch from revision()`);
}

/** A commit writes each key once: two writes of one key would race their own version checks. */
export function distinctKeys(writes: readonly StoreWrite[]): void {
  const seen = new Set<string>();
  for (const w of writes) {
    const k = `${w.input.meta.type}:${keyId(keyOf(w.input.meta))}`;
    if (seen.has(k)) throw new Error(`commit: ${w.input.meta.type} "${w.input.meta.name}" is written twice; write each key once`);
    seen.add(k);
  }
}

// Writes of the zone's own resources (Dataplane, DataplaneInsight). The replica a dataplane is
// connected to is their writer, so the version of our last write is usually current; when it is
// not, re-read once and retry. A replica the dataplane left writes only over its own last write:
// a newer version is another replica's, which holds the dataplane now (HA zones share one store).
import type { ResourceInput, ResourceKey } from '@meshca/api';
import { ConflictError, NotFoundError, type ResourceStore } from '@meshca/store';

/** Creates or replaces; returns the stored version. */
export async function upsert(store: ResourceStore, input: ResourceInput, knownVersion: number | undefined): Promise<number> {
  if (knownVersion !== undefined) {
    try {
      return (await store.update(input, knownVersion)).meta.version;
    } catch (err) {
      if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
    }
  }
  for (let attempt = 0; ; attempt++) {
    const existing = await store.get(input.meta);
    try {
      return existing ? (await store.update(input, existing.meta.version)).meta.version : (await store.create(input)).meta.version;
    } catch (err) {
      if (attempt >= 2 || !(err instanceof ConflictError || err instanceof NotFoundError)) throw err;
    }
  }
}

/** Deletes `key` when present and, with `ourVersion`, only while it is still what we wrote. */
export async function removeIfPresent(store: ResourceStore, key: ResourceKey, ourVersion?: number): Promise<void> {
  try {
    await store.delete(key, ourVersion);
  } catch (err) {
    if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
  }
}

/**
 * Replaces our own last write, or creates the record when we never wrote it and nobody has; leaves
 * a newer one (another replica's) alone. Returns the version now ours, if any.
 */
export async function updateIfOurs(
  store: ResourceStore,
  input: ResourceInput,
  ourVersion: number | undefined,
): Promise<number | undefined> {
  try {
    return ourVersion === undefined ? (await store.create(input)).meta.version : (await store.update(input, ourVersion)).meta.version;
  } catch (err) {
    if (err instanceof ConflictError || err instanceof NotFoundError) return undefined;
    throw err;
  }
}

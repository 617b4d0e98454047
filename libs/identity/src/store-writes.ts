// Writes of the zone's own resources (Dataplane, DataplaneInsight). The zone is their only writer,
// so the version of our last write is usually current; when it is not, re-read once and retry.
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

export async function removeIfPresent(store: ResourceStore, key: ResourceKey): Promise<void> {
  try {
    await store.delete(key);
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err;
  }
}

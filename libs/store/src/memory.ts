import { randomUUID } from 'node:crypto';
import type { Resource, ResourceInput, ResourceKey, ResourceType } from '@meshca/api';
import { byMeshThenName, deliver, distinctKeys, keyId, keyOf, normalizeInput, now, validRetention, warnCompacted } from './common.js';
import { ConflictError, NotFoundError, type ChangeEvent, type ListOptions, type ResourceStore } from './store.js';

/** Default bound of the change feed's size: old versions of large resources must not pile up. */
export const DEFAULT_FEED_RETENTION_BYTES = 64 * 1024 * 1024;

/**
 * The default store: everything in this process, gone when it exits. Keeps the last
 * `feedRetention` changes, and drops older ones sooner when they hold more than
 * `feedRetentionBytes` of resource JSON (a reader that fell behind then resumes with a snapshot).
 */
export function createMemoryStore(opts: { feedRetention?: number; feedRetentionBytes?: number } = {}): ResourceStore {
  const retention = validRetention(opts.feedRetention);
  const maxBytes = opts.feedRetentionBytes ?? DEFAULT_FEED_RETENTION_BYTES;
  const items = new Map<string, Resource>(); // `${type}:${keyId}` -> resource
  // Contiguous revisions, oldest first, from feed[head]. Dropping the oldest moves `head` and the
  // array is cut only once the dead prefix is as long as the window: splicing the front on every
  // write moved the whole window each time (O(retention) per write).
  let feed: (ChangeEvent | undefined)[] = [];
  /** JSON size of each feed entry's resource, at the same index. */
  let sizes: number[] = [];
  let feedBytes = 0;
  let head = 0;
  const watchers = new Set<() => void>();
  let rev = 0;
  const epoch = randomUUID();

  const id = (key: ResourceKey) => `${key.type}:${keyId(key)}`;

  function since(from: number, limit = Infinity): ChangeEvent[] | 'compacted' {
    const after = Math.max(0, from);
    const first = feed[head]?.revision ?? rev + 1;
    if (after < first - 1) return 'compacted';
    const start = head + Math.max(0, after - first + 1);
    return feed.slice(start, start + limit).map((e) => structuredClone(e as ChangeEvent));
  }

  function record(event: ChangeEvent, bytes: number): void {
    feed.push(event);
    sizes.push(bytes);
    feedBytes += bytes;
    // The newest change always stays, however large.
    while (feed.length - head > 1 && (feed.length - head > retention || feedBytes > maxBytes)) {
      feed[head] = undefined;
      feedBytes -= sizes[head] ?? 0;
      head += 1;
    }
    if (head >= retention || head * 2 > feed.length) {
      feed = feed.slice(head);
      sizes = sizes.slice(head);
      head = 0;
    }
    // Deliver after the write returns, so a listener never runs inside a writer's call.
    for (const drain of watchers) queueMicrotask(drain);
  }

  function write(input: ResourceInput, existing: Resource | undefined): Resource {
    const { meta, spec } = structuredClone(normalizeInput(input));
    const time = now();
    rev += 1;
    const resource: Resource = {
      meta: {
        ...keyOf(meta),
        labels: meta.labels ?? {},
        creationTime: existing?.meta.creationTime ?? time,
        modificationTime: time,
        version: rev,
      },
      spec,
    };
    items.set(id(resource.meta), resource);
    // The feed shares the stored object: neither is ever changed in place (a write stores a new
    // object, and every read hands out a clone), and a second copy of every resource in the feed
    // was ~1 KB per dataplane in a zone.
    record({ revision: rev, op: 'upsert', key: keyOf(resource.meta), resource }, JSON.stringify(spec).length + 200);
    return structuredClone(resource);
  }

  function current(key: ResourceKey, expectedVersion: number | undefined): Resource {
    const existing = items.get(id(keyOf(key)));
    if (!existing) throw new NotFoundError(keyOf(key));
    if (expectedVersion !== undefined && existing.meta.version !== expectedVersion) {
      throw new ConflictError(keyOf(key), `version ${expectedVersion} is stale, the stored version is ${existing.meta.version}`);
    }
    return existing;
  }

  return {
    async get(key) {
      const found = items.get(id(key));
      return found && structuredClone(found);
    },
    async list(type: ResourceType, opts: ListOptions = {}) {
      const out = [...items.values()].filter((r) => r.meta.type === type && (opts.mesh === undefined || r.meta.mesh === opts.mesh));
      return out.sort(byMeshThenName).map((r) => structuredClone(r));
    },
    async create(input) {
      if (items.has(id(keyOf(input.meta)))) throw new ConflictError(keyOf(input.meta), 'already exists');
      return write(input, undefined);
    },
    async update(input, expectedVersion) {
      return write(input, current(input.meta, expectedVersion));
    },
    async commit(writes) {
      distinctKeys(writes);
      // Every check before any write; no await in between, so no other write interleaves.
      const existing = writes.map((w) => {
        if (w.op === 'update') return current(w.input.meta, w.expectedVersion);
        if (items.has(id(keyOf(w.input.meta)))) throw new ConflictError(keyOf(w.input.meta), 'already exists');
        return undefined;
      });
      return writes.map((w, i) => write(w.input, existing[i]));
    },
    async delete(key, expectedVersion) {
      current(key, expectedVersion);
      items.delete(id(keyOf(key)));
      rev += 1;
      record({ revision: rev, op: 'delete', key: keyOf(key) }, 200);
    },
    async revision() {
      return rev;
    },
    async epoch() {
      return epoch;
    },
    async changesSince(after, limit) {
      return since(after, limit);
    },
    watch(after, listener, onCompacted = () => warnCompacted(after)) {
      let last = after;
      const drain = () => {
        const events = since(last);
        if (events === 'compacted') {
          watchers.delete(drain);
          onCompacted();
          return;
        }
        for (const event of events) {
          if (!watchers.has(drain)) return;
          last = event.revision;
          deliver(listener, event);
        }
      };
      watchers.add(drain);
      queueMicrotask(drain);
      return () => watchers.delete(drain);
    },
    async close() {
      watchers.clear();
    },
  };
}

// Applies a received snapshot or delta to a local store: validate everything first, then write.
import type { Resource, ResourceInput, ResourceKey, ResourceType } from '@meshca/api';
import { canonicalJson } from '@meshca/common';
import { NotFoundError, type ResourceStore } from '@meshca/store';
import type { Change } from './messages.js';

export type Batch = { kind: 'snapshot'; types: readonly ResourceType[]; resources: ResourceInput[] } | { kind: 'delta'; changes: Change[] };

export interface ApplyOptions {
  /** Types this side accepts from the peer. */
  allowed: readonly ResourceType[];
  /** Maps a key as the peer names it to the key in the local store (global prefixes zone resources). */
  localKey?: (key: ResourceKey) => ResourceKey;
  /** Labels added to every written resource. */
  labels?: Record<string, string>;
  /** Extra per-resource check; returns the reason to refuse it. */
  validate?: (resource: ResourceInput) => string | undefined;
  /** Which local resources a snapshot owns, i.e. may delete when absent from it (default: all of its types). */
  owns?: (resource: Resource) => boolean;
  /** Local resources the peer never overwrites nor deletes (what this side made itself). */
  keep?: (resource: Resource) => boolean;
}

/** A batch that failed validation: nothing of it was written. */
export class BatchRefused extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'BatchRefused';
  }
}

const describe = (k: ResourceKey) => (k.mesh === undefined ? `${k.type} "${k.name}"` : `${k.type} "${k.name}" in mesh "${k.mesh}"`);

/**
 * Throws BatchRefused, having written nothing, when any item is refused. Once validated, writes are
 * idempotent upserts/deletes, so a store failure half-way is repaired by replaying the same batch.
 */
export async function applyBatch(store: ResourceStore, batch: Batch, opts: ApplyOptions): Promise<{ written: number }> {
  const mapKey = opts.localKey ?? ((k: ResourceKey) => k);
  const problems: string[] = [];
  const check = (key: ResourceKey, resource?: ResourceInput) => {
    if (!opts.allowed.includes(key.type)) problems.push(`${describe(key)}: type ${key.type} may not be sent in this direction`);
    else if (resource !== undefined) {
      const why = opts.validate?.(resource);
      if (why !== undefined) problems.push(`${describe(key)}: ${why}`);
    }
  };
  if (batch.kind === 'snapshot') {
    for (const t of batch.types) if (!opts.allowed.includes(t)) problems.push(`snapshot type ${t} may not be sent in this direction`);
    for (const r of batch.resources) check(r.meta, r);
  } else {
    for (const c of batch.changes) c.op === 'upsert' ? check(c.resource.meta, c.resource) : check(c.key);
  }
  if (problems.length > 0) {
    const more = problems.length > 3 ? ` (and ${problems.length - 3} more)` : '';
    throw new BatchRefused(problems.slice(0, 3).join('; ') + more);
  }

  const local = (r: ResourceInput): ResourceInput => ({
    meta: { ...mapKey(r.meta), labels: { ...r.meta.labels, ...opts.labels } },
    spec: r.spec,
  });
  // Last write per key wins: each change carries the whole state of its key.
  const writes = new Map<string, { key: ResourceKey; input?: ResourceInput }>();
  const put = (key: ResourceKey, input?: ResourceInput) => writes.set(keyString(key), input === undefined ? { key } : { key, input });
  if (batch.kind === 'snapshot') {
    const present = new Set<string>();
    for (const r of batch.resources) {
      const input = local(r);
      present.add(keyString(input.meta));
      put(input.meta, input);
    }
    for (const type of batch.types) {
      for (const held of await store.list(type)) {
        if (!present.has(keyString(held.meta)) && (opts.owns?.(held) ?? true) && opts.keep?.(held) !== true) put(held.meta);
      }
    }
  } else {
    for (const c of batch.changes) {
      if (c.op === 'upsert') {
        const input = local(c.resource);
        put(input.meta, input);
      } else put(mapKey(c.key));
    }
  }

  // Every write is to a distinct key, so they go out together in chunks: on Redis the round trips
  // overlap instead of queueing one behind the other (a snapshot of thousands of resources).
  let written = 0;
  const all = [...writes.values()];
  for (let i = 0; i < all.length; i += WRITE_CONCURRENCY) {
    const results = await Promise.all(all.slice(i, i + WRITE_CONCURRENCY).map(({ key, input }) => writeOne(store, key, input, opts.keep)));
    written += results.filter(Boolean).length;
  }
  return { written };
}

const WRITE_CONCURRENCY = 64;

/** Upsert or delete one key; true when the store changed. */
async function writeOne(
  store: ResourceStore,
  key: ResourceKey,
  input: ResourceInput | undefined,
  keep: ((r: Resource) => boolean) | undefined,
): Promise<boolean> {
  const existing = await store.get(key);
  if (existing !== undefined && keep?.(existing) === true) return false;
  if (input === undefined) {
    if (existing === undefined) return false;
    try {
      await store.delete(key);
      return true;
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      return false;
    }
  }
  if (existing === undefined) {
    await store.create(input);
    return true;
  }
  if (
    canonicalJson(existing.meta.labels) === canonicalJson(input.meta.labels ?? {}) &&
    canonicalJson(existing.spec) === canonicalJson(input.spec)
  )
    return false;
  await store.update(input, existing.meta.version);
  return true;
}

export function keyString(k: ResourceKey): string {
  return `${k.type}\u0000${k.mesh ?? ''}\u0000${k.name}`;
}

import { createHash, randomUUID } from 'node:crypto';
import type { Resource, ResourceInput, ResourceKey, ResourceType } from '@meshca/api';
import { Redis } from 'ioredis';
import { redactUrl } from './redact-url.js';
import { byMeshThenName, deliver, distinctKeys, keyId, keyOf, normalizeInput, now, validRetention, warnCompacted } from './common.js';
import {
  ConflictError,
  FencedError,
  NotFoundError,
  StoreUnavailableError,
  type ChangeEvent,
  type Fence,
  type LeaseBackend,
  type LeaseState,
  type ResourceStore,
  type StoreWrite,
} from './store.js';

// One script for every write, so the version check, the resource, the revision and the feed entry
// change together or not at all. XADD runs first: it is the only step that can fail (an id not above
// the feed's last one), and Redis does not roll back a script's earlier writes.
// Stored value: {"v":<version>,"c":"<creationTime>","m":"<modificationTime>","r":<input JSON>} — built by
// concatenation because cjson would turn [] into {} and round large numbers.
// `epoch` is set once per dataset: a Redis that lost its data (restart without persistence, FLUSHALL)
// gets a new one at its next write, which tells watchers that revisions started over.
const WRITE = `
local field, expected, op, body, time, retention, key, epoch = ARGV[1], tonumber(ARGV[2]), ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
if ARGV[9] ~= '' and redis.call('GET', KEYS[5]) ~= ARGV[9] then return {0, 'fenced'} end
local cur = redis.call('HGET', KEYS[1], field)
local version, created
if cur then version, created = string.match(cur, '^{"v":(%d+),"c":"([^"]*)"') end
if expected == -1 then
  if cur then return {0, 'exists', version} end
  created = time
else
  if not cur then return {0, 'missing'} end
  if expected >= 0 and tonumber(version) ~= expected then return {0, 'stale', version} end
end
local rev = tonumber(redis.call('GET', KEYS[2]) or '0') + 1
if op == 'delete' then
  redis.call('XADD', KEYS[3], 'MAXLEN', retention, rev .. '-0', 'op', 'delete', 'k', key)
  redis.call('SET', KEYS[4], epoch, 'NX')
  redis.call('HDEL', KEYS[1], field)
  redis.call('SET', KEYS[2], rev)
  return {1, tostring(rev)}
end
local value = '{"v":' .. rev .. ',"c":"' .. created .. '","m":"' .. time .. '","r":' .. body .. '}'
redis.call('XADD', KEYS[3], 'MAXLEN', retention, rev .. '-0', 'op', 'upsert', 'd', value)
redis.call('SET', KEYS[4], epoch, 'NX')
redis.call('HSET', KEYS[1], field, value)
redis.call('SET', KEYS[2], rev)
return {1, value}
`;
const WRITE_SHA = createHash('sha1').update(WRITE).digest('hex');

// Several creates/updates as one script: every version check first, then every write, so a commit
// lands whole or not at all. KEYS: rev, feed, epoch, fence, then the type hash of each write; ARGV:
// time, retention, epoch, fence value ('' for none), then field, expected version (-1: create) and
// body of each write. All XADDs go before any HSET, for the same reason as in WRITE.
// A fence (KEYS[5] of WRITE, KEYS[4] here) is a lease key that must still hold the value given.
const COMMIT = `
local time, retention, epoch = ARGV[1], ARGV[2], ARGV[3]
if ARGV[4] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[4] then return {0, 0, 'fenced'} end
local n = #KEYS - 4
local created = {}
for i = 1, n do
  local field, expected = ARGV[3 * i + 2], tonumber(ARGV[3 * i + 3])
  local cur = redis.call('HGET', KEYS[4 + i], field)
  local version, c
  if cur then version, c = string.match(cur, '^{"v":(%d+),"c":"([^"]*)"') end
  if expected == -1 then
    if cur then return {0, i, 'exists'} end
    created[i] = time
  else
    if not cur then return {0, i, 'missing'} end
    if tonumber(version) ~= expected then return {0, i, 'stale', version} end
    created[i] = c
  end
end
local rev = tonumber(redis.call('GET', KEYS[1]) or '0')
local values = {}
for i = 1, n do
  local value = '{"v":' .. (rev + i) .. ',"c":"' .. created[i] .. '","m":"' .. time .. '","r":' .. ARGV[3 * i + 4] .. '}'
  redis.call('XADD', KEYS[2], 'MAXLEN', retention, (rev + i) .. '-0', 'op', 'upsert', 'd', value)
  values[i] = value
end
for i = 1, n do redis.call('HSET', KEYS[4 + i], ARGV[3 * i + 2], values[i]) end
redis.call('SET', KEYS[3], epoch, 'NX')
redis.call('SET', KEYS[1], rev + n)
return {1, values}
`;
const COMMIT_SHA = createHash('sha1').update(COMMIT).digest('hex');
// Leases: `<prefix>lease:<name>` holds "<token>:<holder>" with a TTL; `<prefix>lease:<name>:token`
// counts the terms, so every new holder gets a higher token (the fencing token).
const LEASE_ACQUIRE = `
local cur = redis.call('GET', KEYS[1])
if cur then
  if string.match(cur, '^%d+:(.*)$') == ARGV[1] then
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {1, cur, tonumber(ARGV[2])}
  end
  return {0, cur, redis.call('PTTL', KEYS[1])}
end
local value = redis.call('INCR', KEYS[2]) .. ':' .. ARGV[1]
redis.call('SET', KEYS[1], value, 'PX', ARGV[2])
return {1, value, tonumber(ARGV[2])}
`;
const LEASE_RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;
const LEASE_RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;
const CREATE = -1;
const ANY_VERSION = -2;
const WATCH_BATCH = 1000;
const COMMAND_TIMEOUT_MS = 5000;
const WATCH_BLOCK_MS = 10_000;

type StreamEntry = [id: string, fields: string[]];

/**
 * A store in Redis, shared by every process that opens it with the same prefix. Keys:
 * `<prefix>rev` (revision counter), `<prefix>res:<Type>` (hash: keyId -> resource),
 * `<prefix>feed` (stream of change events, entry id `<revision>-0`, trimmed to `feedRetention`),
 * `<prefix>epoch` (random id of this dataset).
 */
export async function createRedisStore(url: string, opts: { prefix?: string; feedRetention?: number } = {}): Promise<ResourceStore> {
  const retention = validRetention(opts.feedRetention);
  const prefix = opts.prefix ?? 'meshca:';
  const revKey = `${prefix}rev`;
  const feedKey = `${prefix}feed`;
  const epochKey = `${prefix}epoch`;
  const hashKey = (type: ResourceType) => `${prefix}res:${type}`;

  // While Redis is away a request fails at once (and the API answers 503) instead of queueing
  // for ~11 s of reconnect attempts: a caller can retry, a queued write surprises it later.
  // A Redis that hangs (paused, overloaded) fails a request after commandTimeout instead of never.
  const redis = new Redis(url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: COMMAND_TIMEOUT_MS,
  });
  redis.on('error', () => undefined); // ioredis reconnects by itself; failed commands reject to their callers
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${(err as Error).message}`);
  }
  await redis.set(epochKey, randomUUID(), 'NX');
  const stops = new Set<() => void>();

  /** A Redis command; a connection problem becomes StoreUnavailableError. */
  async function cmd<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (err) {
      throw asUnavailable(err);
    }
  }

  async function write(fence: Fence | undefined, key: ResourceKey, expected: number, op: 'upsert' | 'delete', body = ''): Promise<string> {
    const args = [
      hashKey(key.type),
      revKey,
      feedKey,
      epochKey,
      fence?.key ?? epochKey,
      keyId(key),
      expected,
      op,
      body,
      now(),
      retention,
      JSON.stringify(key),
      randomUUID(),
      fence?.value ?? '',
    ];
    const reply = (await cmd(() =>
      redis.evalsha(WRITE_SHA, 5, ...args).catch((err: Error) => {
        if (!err.message.startsWith('NOSCRIPT')) throw err;
        return redis.eval(WRITE, 5, ...args);
      }),
    )) as [number, string, string?];
    const [ok, detail, version] = reply;
    if (ok === 1) return detail;
    if (detail === 'fenced') throw new FencedError(fence as Fence);
    if (detail === 'exists') throw new ConflictError(key, 'already exists');
    if (detail === 'missing') throw new NotFoundError(key);
    throw new ConflictError(key, `version ${expected} is stale, the stored version is ${version}`);
  }

  async function commit(fence: Fence | undefined, writes: readonly StoreWrite[]): Promise<Resource[]> {
    distinctKeys(writes);
    if (writes.length === 0) return [];
    const normal = writes.map((w) => ({ input: normalizeInput(w.input), expected: w.op === 'create' ? CREATE : w.expectedVersion }));
    const keys = [revKey, feedKey, epochKey, fence?.key ?? epochKey, ...normal.map((w) => hashKey(w.input.meta.type))];
    const args = [
      now(),
      retention,
      randomUUID(),
      fence?.value ?? '',
      ...normal.flatMap((w) => [keyId(w.input.meta), w.expected, JSON.stringify(w.input)]),
    ];
    const reply = (await cmd(() =>
      redis.evalsha(COMMIT_SHA, keys.length, ...keys, ...args).catch((err: Error) => {
        if (!err.message.startsWith('NOSCRIPT')) throw err;
        return redis.eval(COMMIT, keys.length, ...keys, ...args);
      }),
    )) as [1, string[]] | [0, number, string, string?];
    if (reply[0] === 1) return reply[1].map(decodeResource);
    const [, index, detail, version] = reply;
    if (detail === 'fenced') throw new FencedError(fence as Fence);
    const failed = normal[index - 1] as (typeof normal)[number];
    const key = keyOf(failed.input.meta);
    if (detail === 'exists') throw new ConflictError(key, 'already exists');
    if (detail === 'missing') throw new NotFoundError(key);
    throw new ConflictError(key, `version ${failed.expected} is stale, the stored version is ${version}`);
  }

  async function upsert(fence: Fence | undefined, input: ResourceInput, expected: number): Promise<Resource> {
    const normal = normalizeInput(input);
    return decodeResource(await write(fence, keyOf(normal.meta), expected, 'upsert', JSON.stringify(normal)));
  }

  const leaseKey = (name: string) => `${prefix}lease:${name}`;
  const leaseState = (reply: [number, string | null, number]): LeaseState => {
    const [held, value, ttlMs] = reply;
    if (value === null) return { held: false, holder: undefined, token: undefined, ttlMs: 0 };
    const [, token = '0', holder = ''] = /^(\d+):(.*)$/.exec(value) ?? [];
    return held === 1
      ? { held: true, value, token: Number(token), ttlMs }
      : { held: false, holder, token: Number(token), ttlMs: Math.max(0, ttlMs) };
  };
  const leases: LeaseBackend = {
    async acquire(name, holder, ttlMs) {
      const key = leaseKey(name);
      return leaseState((await cmd(() => redis.eval(LEASE_ACQUIRE, 2, key, `${key}:token`, holder, ttlMs))) as [number, string, number]);
    },
    async renew(name, value, ttlMs) {
      return (await cmd(() => redis.eval(LEASE_RENEW, 1, leaseKey(name), value, ttlMs))) === 1;
    },
    async release(name, value) {
      await cmd(() => redis.eval(LEASE_RELEASE, 1, leaseKey(name), value));
    },
    async read(name) {
      const [value, ttlMs] = await cmd(() => Promise.all([redis.get(leaseKey(name)), redis.pttl(leaseKey(name))]));
      return leaseState([0, value, ttlMs]);
    },
    fence: (name, value) => ({ key: leaseKey(name), value }),
  };

  const view = (fence: Fence | undefined): ResourceStore => ({
    ...reads,
    create: (input) => upsert(fence, input, CREATE),
    update: (input, expectedVersion) => upsert(fence, input, expectedVersion),
    commit: (writes) => commit(fence, writes),
    async delete(key, expectedVersion) {
      await write(fence, keyOf(key), expectedVersion ?? ANY_VERSION, 'delete');
    },
    fenced: (f) => view(f),
    leases,
  });

  const reads = {
    async get(key) {
      const value = await cmd(() => redis.hget(hashKey(key.type), keyId(key)));
      return value === null ? undefined : decodeResource(value);
    },
    async list(type, opts = {}) {
      const all = Object.values(await cmd(() => redis.hgetall(hashKey(type)))).map(decodeResource);
      return all.filter((r) => opts.mesh === undefined || r.meta.mesh === opts.mesh).sort(byMeshThenName);
    },
    async revision() {
      return Number((await cmd(() => redis.get(revKey))) ?? 0);
    },
    async epoch() {
      // Set at connect and by every write when absent: a Redis that lost its data gets a new one.
      await cmd(() => redis.set(epochKey, randomUUID(), 'NX'));
      return (await cmd(() => redis.get(epochKey))) ?? '';
    },
    async changesSince(after, limit) {
      const from = Math.max(0, after);
      const entries = await cmd(() =>
        limit === undefined ? redis.xrange(feedKey, `${from + 1}-0`, '+') : redis.xrange(feedKey, `${from + 1}-0`, '+', 'COUNT', limit),
      );
      return checkContiguous(from, entries.map(decodeEvent));
    },
    watch(after, listener, onCompacted = () => warnCompacted(after)) {
      // A dedicated connection: XREAD BLOCK holds it. ioredis resends a pending XREAD after a
      // reconnect, and every XREAD asks for what follows the last delivered revision.
      // XREAD BLOCK waits up to WATCH_BLOCK_MS on purpose: no command timeout on this connection.
      const conn = redis.duplicate({ maxRetriesPerRequest: null, enableOfflineQueue: true, commandTimeout: undefined });
      conn.on('error', () => undefined);
      let last = Math.max(0, after);
      let stopped = false;
      const stop = () => {
        stopped = true;
        stops.delete(stop);
        conn.disconnect();
      };
      stops.add(stop);
      // A Redis that lost its data (restart without persistence, FLUSHALL) would hand us another
      // history's revision 7 as the successor of our 6: after every read, check the dataset is the same.
      let epoch: string | null | undefined;
      const sameDataset = async () => {
        const current = await conn.get(epochKey);
        if (epoch === undefined) epoch = current;
        return current === epoch;
      };
      const compacted = () => {
        stop();
        onCompacted();
      };
      void (async () => {
        while (!stopped) {
          try {
            if (epoch === undefined) await sameDataset();
            const reply = await conn.xread('COUNT', WATCH_BATCH, 'BLOCK', WATCH_BLOCK_MS, 'STREAMS', feedKey, `${last}-0`);
            if (stopped) return;
            if (!(await sameDataset())) return compacted();
            if (reply === null) continue;
            const events = checkContiguous(last, (reply[0]?.[1] ?? []).map(decodeEvent));
            if (events === 'compacted') return compacted();
            for (const event of events) {
              if (stopped) return;
              last = event.revision;
              deliver(listener, event);
            }
          } catch {
            if (!stopped) await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      })();
      return stop;
    },
    async close() {
      for (const stop of [...stops]) stop();
      await redis.quit().catch(() => redis.disconnect());
    },
  } satisfies Omit<ResourceStore, 'create' | 'update' | 'commit' | 'delete'>;
  return view(undefined);
}

/** Errors of the connection, not of the command: Redis down, restarting, or the link lost mid-request. */
function asUnavailable(err: unknown): unknown {
  const message = err instanceof Error ? err.message : String(err);
  const connection =
    /Stream isn't writeable|Connection is closed|max retries per request|Command timed out|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|LOADING|READONLY|MASTERDOWN/i.test(
      message,
    );
  return connection ? new StoreUnavailableError(`Redis: ${message}`) : err;
}

/** Revisions are contiguous (one feed entry per write), so a first entry past `after + 1` means a trimmed gap. */
function checkContiguous(after: number, events: ChangeEvent[]): ChangeEvent[] | 'compacted' {
  const first = events[0];
  return first !== undefined && first.revision !== after + 1 ? 'compacted' : events;
}

function decodeResource(value: string): Resource {
  const { v, c, m, r } = JSON.parse(value) as { v: number; c: string; m: string; r: ResourceInput };
  return { meta: { ...keyOf(r.meta), labels: r.meta.labels ?? {}, creationTime: c, modificationTime: m, version: v }, spec: r.spec };
}

function decodeEvent([id, fields]: StreamEntry): ChangeEvent {
  const field = (name: string) => {
    for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1] ?? '';
    return '';
  };
  const revision = Number(id.split('-')[0]);
  if (field('op') === 'delete') return { revision, op: 'delete', key: JSON.parse(field('k')) as ResourceKey };
  const resource = decodeResource(field('d'));
  return { revision, op: 'upsert', key: keyOf(resource.meta), resource };
}

// Streams one store's resources of some types to a peer: a snapshot, then deltas read from the
// store's change feed. The feed is the only queue: the sender never holds more than one message,
// so a slow peer makes it wait (in-flight and socket-buffer limits), never buffer without bound.
import type { Resource, ResourceInput, ResourceType } from '@meshca/api';
import type { ChangeEvent, ResourceStore } from '@meshca/store';
import type { Logger } from '@meshca/common';
import { encode, type Change, type DataMessage } from './messages.js';
import type { KdsLimits } from './limits.js';

export interface Transport {
  send(text: string): void;
  bufferedAmount(): number;
  isOpen(): boolean;
}

export interface SenderState {
  /** Newest version sent (a version with nothing for the peer moves no message, and is not counted). */
  sentRevision: number;
  /** Newest version the peer ACKed. */
  ackedRevision: number;
  /** Versions sent and not yet ACKed or NACKed. */
  inFlight: number;
  snapshotsSent: number;
  deltasSent: number;
}

export interface Sender {
  /** `from`: the peer's last applied revision, or 'snapshot' to start with a full snapshot. */
  start(from: number | 'snapshot'): void;
  /** Returns false for a version that was not in flight. */
  ack(version: number): boolean;
  nack(version: number): boolean;
  state(): SenderState;
  stop(): void;
}

export interface SenderOptions {
  store: ResourceStore;
  types: readonly ResourceType[];
  transport: Transport;
  limits: KdsLimits;
  logger: Logger;
  /** Called after each version is handed to the socket. */
  onSent?: (msg: DataMessage) => void;
  /** Which resources of `types` go to this peer (default: all). Deletes always go: the peer ignores unknown keys. */
  include?: (r: Resource) => boolean;
}

// The message around the items, plus one separator byte counted per item.
const ENVELOPE_BYTES = 512;

export function createSender(opts: SenderOptions): Sender {
  const { store, types, transport, limits, logger } = opts;
  const inFlight: number[] = [];
  // How far the store's feed was read; lastSent is the version of the last message, which the peer
  // ACKs. Reporting the cursor as "sent" would show lag for versions the peer is never sent.
  let cursor = 0;
  let lastSent = 0;
  let needSnapshot = false;
  let acked = 0;
  let snapshotsSent = 0;
  let deltasSent = 0;
  let running = false;
  let dirty = false;
  let stopped = false;
  let unwatch: (() => void) | undefined;

  function watchFrom(after: number) {
    unwatch?.();
    unwatch = store.watch(after, wake, () => {
      // The watch fell behind the feed: the pump reads the feed itself and will snapshot if needed.
      void store.revision().then((r) => (stopped ? undefined : watchFrom(r)));
      wake();
    });
  }

  function wake() {
    if (stopped) return;
    dirty = true;
    if (!running) void pump();
  }

  async function pump() {
    running = true;
    try {
      while (!stopped && dirty) {
        dirty = false;
        while (!stopped && inFlight.length < limits.maxInFlight) {
          if (!(await step())) break;
          dirty = false;
        }
      }
    } catch (err) {
      // A read cut short by shutdown (the store closing under it) is not a failure.
      if (stopped) return;
      logger.error({ err: errorText(err) }, 'KDS sender failed reading the store; retrying in 1s');
      setTimeout(wake, 1000).unref();
    } finally {
      running = false;
    }
  }

  /** Sends at most one version. Returns false when there is nothing to send. */
  async function step(): Promise<boolean> {
    if (needSnapshot) {
      await sendSnapshot();
      return true;
    }
    const head = await store.revision();
    if (head < cursor) {
      // The peer claims a revision this store never reached (the store was reset): start over.
      logger.warn({ peerRevision: cursor, storeRevision: head }, 'peer is ahead of this store; sending a full snapshot');
      needSnapshot = true;
      return true;
    }
    if (head - cursor > limits.maxLagRevisions) {
      needSnapshot = true;
      return true;
    }
    const changes = await store.changesSince(cursor, limits.maxChangesPerDelta);
    if (changes === 'compacted') {
      needSnapshot = true;
      return true;
    }
    const last = changes.at(-1);
    if (last === undefined) return false;
    return sendDelta(changes, last.revision);
  }

  async function sendDelta(events: ChangeEvent[], lastRevision: number): Promise<boolean> {
    const out: Change[] = [];
    let bytes = ENVELOPE_BYTES;
    let version = lastRevision;
    for (const e of events) {
      if (!types.includes(e.key.type)) continue;
      if (e.op === 'upsert' && e.resource !== undefined && opts.include?.(e.resource) === false) continue;
      const change: Change =
        e.op === 'delete' || e.resource === undefined ? { op: 'delete', key: e.key } : { op: 'upsert', resource: toInput(e.resource) };
      const size = Buffer.byteLength(JSON.stringify(change)) + 1;
      if (size + ENVELOPE_BYTES > limits.maxMessageBytes) {
        logger.error(
          { key: e.key, bytes: size, maxMessageBytes: limits.maxMessageBytes },
          'resource is larger than the KDS message limit; it is not synced',
        );
        continue;
      }
      if (bytes + size > limits.maxMessageBytes) {
        // Stop before this change; it starts the next delta.
        version = e.revision - 1;
        break;
      }
      bytes += size;
      out.push(change);
    }
    const since = cursor;
    cursor = version;
    // Changes of other types only move the cursor; nothing to tell the peer.
    if (out.length === 0) return true;
    await send({ type: 'delta', version, since, changes: out });
    deltasSent++;
    return true;
  }

  async function sendSnapshot() {
    needSnapshot = false;
    const version = await store.revision();
    const parts: ResourceInput[][] = [[]];
    let bytes = ENVELOPE_BYTES;
    for (const type of types) {
      for (const r of await store.list(type)) {
        if (opts.include?.(r) === false) continue;
        const input = toInput(r);
        const size = Buffer.byteLength(JSON.stringify(input)) + 1;
        if (size + ENVELOPE_BYTES > limits.maxMessageBytes) {
          logger.error(
            { key: r.meta, bytes: size, maxMessageBytes: limits.maxMessageBytes },
            'resource is larger than the KDS message limit; it is not synced',
          );
          continue;
        }
        if (bytes + size > limits.maxMessageBytes) {
          parts.push([]);
          bytes = ENVELOPE_BYTES;
        }
        bytes += size;
        parts.at(-1)?.push(input);
      }
    }
    // Resources written while listing have revisions > version: the deltas after it replay them.
    cursor = version;
    for (const [i, resources] of parts.entries()) {
      if (stopped) return;
      await send({ type: 'snapshot', version, types: [...types], part: i, final: i === parts.length - 1, resources });
    }
    snapshotsSent++;
  }

  async function send(msg: DataMessage) {
    if (!transport.isOpen()) {
      stopped = true;
      return;
    }
    if (msg.type === 'delta' || msg.final) {
      inFlight.push(msg.version);
      lastSent = msg.version;
    }
    transport.send(encode(msg));
    opts.onSent?.(msg);
    // Backpressure on bytes: wait until the socket drained below the limit.
    while (!stopped && transport.isOpen() && transport.bufferedAmount() > limits.maxBufferedBytes) {
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  function settle(version: number): boolean {
    const before = inFlight.length;
    while (inFlight.length > 0 && (inFlight[0] ?? Infinity) <= version) inFlight.shift();
    if (inFlight.length === before) return false;
    wake();
    return true;
  }

  return {
    start(from) {
      if (from === 'snapshot' || from === 0) needSnapshot = true;
      else cursor = lastSent = from;
      void store.revision().then(
        (r) => {
          if (stopped) return;
          watchFrom(r);
          wake();
        },
        (err: unknown) => {
          logger.error({ err: errorText(err) }, 'KDS sender cannot read the store revision; retrying in 1s');
          setTimeout(() => this.start(from), 1000).unref();
        },
      );
    },
    ack(version) {
      const ok = settle(version);
      if (ok) acked = Math.max(acked, version);
      return ok;
    },
    nack(version) {
      return settle(version);
    },
    state: () => ({ sentRevision: lastSent, ackedRevision: acked, inFlight: inFlight.length, snapshotsSent, deltasSent }),
    stop() {
      stopped = true;
      unwatch?.();
    },
  };
}

function toInput(r: {
  meta: { type: ResourceType; name: string; mesh?: string; labels?: Record<string, string> };
  spec: unknown;
}): ResourceInput {
  const { type, name, mesh, labels } = r.meta;
  return {
    meta: mesh === undefined ? { type, name, labels: labels ?? {} } : { type, name, mesh, labels: labels ?? {} },
    spec: r.spec as ResourceInput['spec'],
  };
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

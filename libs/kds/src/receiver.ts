// Receives snapshots and deltas, applies each version whole or not at all, and answers ACK/NACK.
import type { ResourceInput } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import { applyBatch, BatchRefused, type ApplyOptions, type Batch } from './apply-batch.js';
import type { Screened } from './dataset-guard.js';
import type { AckMessage, DataMessage, NackMessage } from './messages.js';

export interface ReceiverOptions {
  store: ResourceStore;
  apply: ApplyOptions;
  reply: (msg: AckMessage | NackMessage) => void;
  /** Decides, before anything is written, whether a version is applied (maybe as another batch) or refused. */
  screen?: (batch: Batch) => Promise<Screened>;
  /** After a version is written and before it is ACKed (the zone persists its revision here). */
  onApplied?: (version: number) => Promise<void>;
  onNack?: (version: number, reason: string) => void;
}

export interface Receiver {
  /**
   * Handles one message; call them one at a time, in arrival order. Rejects on a protocol error
   * or a store failure: the caller closes the stream (nothing is ACKed, the version is re-sent on resume).
   */
  handle(msg: DataMessage): Promise<void>;
}

export function createReceiver(opts: ReceiverOptions): Receiver {
  let parts: { version: number; next: number; resources: ResourceInput[] } | undefined;

  async function applyVersion(version: number, batch: Batch) {
    const refuse = (reason: string) => {
      opts.reply({ type: 'nack', version, reason });
      opts.onNack?.(version, reason);
    };
    const screened = opts.screen === undefined ? { apply: batch } : await opts.screen(batch);
    if ('refuse' in screened) return refuse(screened.refuse);
    try {
      await applyBatch(opts.store, screened.apply, opts.apply);
    } catch (err) {
      if (!(err instanceof BatchRefused)) throw err;
      return refuse(err.message);
    }
    await opts.onApplied?.(version);
    opts.reply({ type: 'ack', version });
  }

  return {
    async handle(msg) {
      if (msg.type === 'delta') {
        if (parts !== undefined) throw new Error(`delta ${msg.version} arrived inside snapshot ${parts.version}`);
        await applyVersion(msg.version, { kind: 'delta', changes: msg.changes });
        return;
      }
      if (msg.part === 0) parts = { version: msg.version, next: 0, resources: [] };
      if (parts === undefined || parts.version !== msg.version || parts.next !== msg.part) {
        throw new Error(`snapshot ${msg.version} part ${msg.part} arrived out of order`);
      }
      parts.resources.push(...msg.resources);
      parts.next++;
      if (!msg.final) return;
      const { resources } = parts;
      parts = undefined;
      await applyVersion(msg.version, { kind: 'snapshot', types: msg.types, resources });
    },
  };
}

// Issuance on worker threads, so one zone process signs on every core. Jobs issued in the same
// tick are batched into one message per worker: a postMessage round trip costs about as much as
// a signature, so sending certificates one by one would eat much of the gain.
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { CaKeyMaterial, IssuedLeaf, LeafIssuer, LeafJob } from './issuer.js';
import { createLeafSigner } from './leaf-signer.js';
import type { FromWorker, ToWorker } from './pool-protocol.js';

export interface IssuerPoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  workers?: number;
  /** Most jobs per message to one worker. */
  maxBatch?: number;
}

export interface IssuerPool {
  readonly size: number;
  /** A LeafIssuer signing with this CA on the pool's workers; the CA is checked here first. */
  issuer(material: CaKeyMaterial): LeafIssuer;
  close(): Promise<void>;
}

interface Pending {
  resolve: (leaf: IssuedLeaf) => void;
  reject: (err: Error) => void;
  slot: Slot;
}

interface Slot {
  worker: Worker;
  inFlight: Set<number>;
}

/**
 * A built binary has its worker bundled next to it (scripts/build.mjs writes pool-worker.mjs beside
 * each bundle); from the TypeScript sources, a small boot file registers tsx in the worker first.
 */
const BUILT = new URL('./pool-worker.mjs', import.meta.url);
const BOOT = new URL('./pool-worker-boot.mjs', import.meta.url);
const ENTRY = new URL('./pool-worker.ts', import.meta.url).href;
const fromBundle = existsSync(fileURLToPath(BUILT));

export function createIssuerPool(options: IssuerPoolOptions = {}): IssuerPool {
  const size = Math.max(1, Math.floor(options.workers ?? availableParallelism()));
  const maxBatch = Math.max(1, options.maxBatch ?? 64);
  const signers = new Map<number, CaKeyMaterial>();
  const pending = new Map<number, Pending>();
  let queue: { seq: number; signerId: number; job: LeafJob; resolve: Pending['resolve']; reject: Pending['reject'] }[] = [];
  let flushScheduled = false;
  let nextSeq = 1;
  let nextSignerId = 1;
  let closed = false;

  // Started at the first job: a zone with no dataplanes to sign for holds no worker threads (each
  // is a V8 isolate of its own, about 10 MB).
  const slots: Slot[] = [];

  function spawn(): Slot {
    const worker = fromBundle ? new Worker(BUILT) : new Worker(BOOT, { workerData: { entry: ENTRY } });
    const slot: Slot = { worker, inFlight: new Set() };
    worker.unref();
    worker.on('message', (message: FromWorker) => {
      for (const r of message.results) {
        const p = pending.get(r.seq);
        if (!p) continue;
        pending.delete(r.seq);
        slot.inFlight.delete(r.seq);
        if (r.ok) p.resolve(r.leaf);
        else p.reject(new Error(r.message));
      }
      if (slot.inFlight.size === 0) worker.unref();
    });
    const fail = (reason: string): void => {
      for (const seq of slot.inFlight) {
        const p = pending.get(seq);
        pending.delete(seq);
        p?.reject(new Error(`issuer worker ${reason}`));
      }
      slot.inFlight.clear();
      const index = slots.indexOf(slot);
      if (!closed && index >= 0) slots[index] = spawn();
    };
    worker.on('error', (err) => fail(`failed: ${err.message}`));
    worker.on('exit', (code) => {
      if (slots.includes(slot)) fail(`exited with code ${code}`);
    });
    for (const [signerId, m] of signers) post(slot, { kind: 'load', signerId, caCertPem: m.caCertPem, caKeyPem: m.caKeyPem });
    return slot;
  }

  function post(slot: Slot, message: ToWorker): void {
    slot.worker.postMessage(message);
  }

  function flush(): void {
    flushScheduled = false;
    const jobs = queue;
    queue = [];
    if (closed) {
      for (const j of jobs) j.reject(new Error('issuer pool closed'));
      return;
    }
    while (slots.length < size) slots.push(spawn());
    // Spread this tick's jobs evenly, least-loaded workers first.
    const perWorker = Math.min(maxBatch, Math.ceil(jobs.length / slots.length));
    for (let start = 0; start < jobs.length; start += perWorker) {
      const batch = jobs.slice(start, start + perWorker);
      let slot = slots[0] as Slot;
      for (const s of slots) if (s.inFlight.size < slot.inFlight.size) slot = s;
      for (const j of batch) {
        pending.set(j.seq, { resolve: j.resolve, reject: j.reject, slot });
        slot.inFlight.add(j.seq);
      }
      slot.worker.ref();
      post(slot, { kind: 'jobs', jobs: batch.map(({ seq, signerId, job }) => ({ seq, signerId, job })) });
    }
  }

  return {
    size,
    issuer(material) {
      if (closed) throw new Error('issuer pool is closed');
      // Fail here, on the caller's thread, for a bad CA rather than once per job in the workers.
      const { caCertPem } = createLeafSigner(material);
      const signerId = nextSignerId++;
      const copy = { caCertPem: material.caCertPem, caKeyPem: material.caKeyPem };
      signers.set(signerId, copy);
      for (const slot of slots) post(slot, { kind: 'load', signerId, ...copy });
      let released = false;
      return {
        caCertPem,
        issue(job) {
          if (released || closed) return Promise.reject(new Error('issuer is closed'));
          return new Promise<IssuedLeaf>((resolve, reject) => {
            queue.push({ seq: nextSeq++, signerId, job, resolve, reject });
            if (!flushScheduled) {
              flushScheduled = true;
              queueMicrotask(flush);
            }
          });
        },
        async close() {
          if (released) return;
          released = true;
          signers.delete(signerId);
          if (!closed) for (const slot of slots) post(slot, { kind: 'unload', signerId });
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      const current = slots.splice(0);
      for (const slot of current) {
        for (const seq of slot.inFlight) {
          pending.get(seq)?.reject(new Error('issuer pool closed'));
          pending.delete(seq);
        }
      }
      await Promise.all(current.map((s) => s.worker.terminate()));
    },
  };
}

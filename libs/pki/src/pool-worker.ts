import { parentPort } from 'node:worker_threads';
import { issueLeafSync } from './issuer.js';
import { createLeafSigner } from './leaf-signer.js';
import type { LeafSigner } from './leaf-signer.js';
import type { FromWorker, JobResult, ToWorker } from './pool-protocol.js';

const port = parentPort;
if (!port) throw new Error('pool-worker must run in a worker thread');

const signers = new Map<number, LeafSigner | Error>();

port.on('message', (message: ToWorker) => {
  switch (message.kind) {
    case 'load':
      try {
        signers.set(message.signerId, createLeafSigner(message));
      } catch (err) {
        signers.set(message.signerId, err instanceof Error ? err : new Error(String(err)));
      }
      return;
    case 'unload':
      signers.delete(message.signerId);
      return;
    case 'jobs': {
      const results: JobResult[] = message.jobs.map(({ seq, signerId, job }) => {
        const signer = signers.get(signerId);
        if (!signer) return { seq, ok: false, message: 'issuer is closed' };
        if (signer instanceof Error) return { seq, ok: false, message: signer.message };
        try {
          return { seq, ok: true, leaf: issueLeafSync(signer, job) };
        } catch (err) {
          return { seq, ok: false, message: err instanceof Error ? err.message : String(err) };
        }
      });
      port.postMessage({ kind: 'results', results } satisfies FromWorker);
      return;
    }
  }
});

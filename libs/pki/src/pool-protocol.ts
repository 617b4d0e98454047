import type { IssuedLeaf, LeafJob } from './issuer.js';

export type ToWorker =
  | { kind: 'load'; signerId: number; caCertPem: string; caKeyPem: string }
  | { kind: 'unload'; signerId: number }
  | { kind: 'jobs'; jobs: { seq: number; signerId: number; job: LeafJob }[] };

export type JobResult = { seq: number; ok: true; leaf: IssuedLeaf } | { seq: number; ok: false; message: string };

export type FromWorker = { kind: 'results'; results: JobResult[] };

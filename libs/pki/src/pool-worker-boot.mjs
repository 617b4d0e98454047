// Worker entry in plain JavaScript: sources are TypeScript run through tsx with no build step, and
// a worker thread does not inherit the parent's module hooks, so it registers tsx itself.
import { register } from 'tsx/esm/api';
import { workerData } from 'node:worker_threads';

register();
await import(workerData.entry);

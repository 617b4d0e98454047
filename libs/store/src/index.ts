export * from './store.js';
export { createMemoryStore, DEFAULT_FEED_RETENTION_BYTES } from './memory.js';
export { createRedisStore } from './redis.js';
export { openStore } from './open.js';
export {
  createLeaderElection,
  DEFAULT_LEASE_MS,
  isPresent,
  replicaId,
  startPresence,
  type LeaderElection,
  type LeaderElectionOptions,
  type LeaderTerm,
} from './leader.js';

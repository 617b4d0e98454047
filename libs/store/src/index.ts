export * from './store.js';
export { createMemoryStore } from './memory.js';
export { createRedisStore } from './redis.js';
export { openStore } from './open.js';

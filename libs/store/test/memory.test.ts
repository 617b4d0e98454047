import { createMemoryStore } from '../src/index.js';
import { runStoreContract } from './contract.js';

runStoreContract('memory', async (opts) => createMemoryStore(opts));

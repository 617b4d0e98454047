import { startMoto } from '../servers/moto.js';
import { startAcmPcaServer } from '../servers/acmpca/index.js';
import type { ClientOptions } from './helpers.js';

/** One ACM PCA implementation that the contract tests run against. */
export interface Peer {
  name: string;
  client: ClientOptions;
  stop(): Promise<void>;
}

export const PEERS: Array<{ name: string; start(): Promise<Peer> }> = [
  {
    name: 'moto',
    async start() {
      const moto = await startMoto();
      return { name: 'moto', client: { endpoint: moto.endpoint, region: moto.region, credentials: moto.credentials }, stop: moto.stop };
    },
  },
  {
    name: 'test server',
    async start() {
      const s = await startAcmPcaServer({ issueDelayMs: 150 });
      return { name: 'test server', client: { endpoint: s.endpoint, region: s.region, credentials: s.credentials }, stop: s.stop };
    },
  },
];

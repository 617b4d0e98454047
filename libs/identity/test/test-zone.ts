// A zone's identity service as the tests run it: on a real HTTPS server on 127.0.0.1, with a memory
// store and its own token issuer.
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createLogger, createSelfSignedServerTls } from '@meshca/common';
import { createTokenIssuer, generateSigningKey, type TokenIssuer } from '@meshca/tokens';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { attachDataplaneServer, createIdentityService, type IdentityService, type IdentityServiceOptions } from '../src/index.js';

export const log = createLogger({ name: 'identity-test', level: 'silent', pretty: false });

export interface TestZone {
  url: string;
  caPem: string;
  store: ResourceStore;
  service: IdentityService;
  tokens: TokenIssuer;
  server: Server;
  close(): Promise<void>;
}

let serverTls: Promise<{ certPem: string; keyPem: string; caPem: string }> | undefined;

/** `at`: listen on this port, and verify tokens of this issuer (a zone restarted in place). */
export async function startZone(
  options: Partial<IdentityServiceOptions> = {},
  at: { port?: number; tokens?: TokenIssuer } = {},
): Promise<TestZone> {
  serverTls ??= createSelfSignedServerTls('zone', ['127.0.0.1', 'localhost']);
  const tls = await serverTls;
  const store = options.store ?? createMemoryStore();
  const tokens = at.tokens ?? createTokenIssuer({ keys: [await generateSigningKey()] });
  const service = createIdentityService({
    store,
    zone: 'zone-1',
    log,
    workers: 0,
    verifyToken: (t) => tokens.verify(t, 'dataplane'),
    graceMs: 300,
    insightIntervalMs: 100,
    retry: { baseMs: 200, maxMs: 1000 },
    rotationSpreadMs: 200,
    ...options,
  });
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  const mounted = attachDataplaneServer(service, { server, path: '/dataplanes' });
  await new Promise<void>((r) => server.listen(at.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `wss://127.0.0.1:${port}/dataplanes`,
    caPem: tls.caPem,
    store,
    service,
    tokens,
    server,
    async close() {
      mounted.close();
      await service.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await store.close();
    },
  };
}

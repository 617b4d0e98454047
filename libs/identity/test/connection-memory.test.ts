import type { IncomingMessage } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@meshca/test/eventually';
import { connectRaw } from './raw-client.js';
import { applyMesh, builtin, dataplane } from './resources.js';
import { startZone, type TestZone } from './test-zone.js';

// What a connected dataplane keeps alive in the zone is what 10,000 of them cost; the upgrade
// request (headers, the bearer token) is not part of it once the connection is up.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let zone: TestZone | undefined;
afterEach(async () => {
  await zone?.close();
  zone = undefined;
});

describe('a connected dataplane', () => {
  it('does not keep its upgrade request (headers, token) alive', async () => {
    zone = await startZone();
    await applyMesh(zone.store, 'default', { enabledBackend: 'ca-1', backends: [builtin('ca-1')] });
    let request: WeakRef<IncomingMessage> | undefined;
    // Registered before the identity server's listener, so it sees the same request object.
    zone.server.prependListener('upgrade', (req: IncomingMessage) => {
      request = new WeakRef(req);
    });
    const token = await zone.tokens.issueDataplaneToken({
      mesh: 'default',
      name: 'web-1',
      tags: { 'kuma.io/service': 'web' },
      validFor: 600,
    });
    const client = await connectRaw(zone, token);
    client.send({ type: 'register', dataplane: dataplane('web-1', { 'kuma.io/service': 'web' }) });
    await client.next('identity');
    expect(request).toBeDefined();
    await eventually(
      () => {
        gc();
        expect(request?.deref()).toBeUndefined();
      },
      5000,
      100,
    );
    expect(zone.service.stats().connected).toBe(1);
    client.ws.terminate();
  });
});

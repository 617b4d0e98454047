import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { eventually } from '@meshca/test/eventually';
import { backoffDelay, decode, encode, frameText, type KdsMessage } from '../src/index.js';
import { cleanup, createEnv, hello, mesh, rawPeer, startGlobal, startZone, type Env, type Global } from './fixture.js';

let env: Env;
beforeAll(async () => {
  env = await createEnv();
});
afterEach(async () => {
  await cleanup(env);
});

const underlying = (ws: unknown) => (ws as { _socket: Socket })._socket;

describe('heartbeats', () => {
  it('global drops a zone that stops answering (socket paused) and shows it offline', async () => {
    const global = await startGlobal(env, { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 });
    const peer = await rawPeer(env, global, await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 }));
    peer.send(hello('east'));
    await peer.next((m) => m.type === 'welcome');
    expect(global.kds.zone('east')?.online).toBe(true);
    underlying(peer.ws).pause();
    const state = await eventually(() => {
      const s = global.kds.zone('east');
      expect(s?.online).toBe(false);
      return s;
    });
    expect(state?.lastDisconnect).toMatch(/no heartbeat for \d+ ms/);
    expect(global.lines.some((l) => l.zone === 'east' && /silent/.test(l.msg))).toBe(true);
  });

  it('a zone detects a global that stops answering, and reconnects', async () => {
    // A fake global: completes the handshake, then answers nothing, not even pings.
    const server = createServer({ cert: env.tls.certPem, key: env.tls.keyPem });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const wss = new WebSocketServer({ server, autoPong: false });
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      ws.on('message', (data) => {
        const msg = decode(frameText(data));
        if (msg.type === 'hello')
          ws.send(encode({ type: 'welcome', protocol: 1, zone: msg.zone, software: { name: 'fake', version: '0' } }));
      });
    });
    env.cleanups.push(async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
      await new Promise<void>((r) => server.close(() => r()));
    });
    const fakeGlobal = { url: `wss://127.0.0.1:${(server.address() as AddressInfo).port}/kds` } as Global;
    const zone = await startZone(env, fakeGlobal, 'east', { heartbeatIntervalMs: 100, heartbeatTimeoutMs: 500 });
    await eventually(() => expect(zone.client.status().lastError).toMatch(/global silent for \d+ ms/));
    await eventually(() => expect(connections).toBeGreaterThanOrEqual(2));
  });
});

describe('limits', () => {
  it('refuses a frame above the size limit', async () => {
    const global = await startGlobal(env, { maxMessageBytes: 1024 });
    const peer = await rawPeer(env, global, await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 }));
    peer.send(hello('east'));
    await peer.next((m) => m.type === 'welcome');
    peer.ws.send(
      encode({
        type: 'delta',
        version: 1,
        since: 0,
        changes: [{ op: 'upsert', resource: { meta: { type: 'ZoneInsight', name: 'east' }, spec: { pad: 'x'.repeat(4096) } } }],
      }),
    );
    expect((await peer.closed).code).toBe(1009);
  });

  it('splits a snapshot larger than the message limit into parts that apply as one version', async () => {
    const global = await startGlobal(env, { maxMessageBytes: 64 * 1024 });
    for (let i = 0; i < 40; i++)
      await global.store.create({ meta: { type: 'Mesh', name: `m${String(i).padStart(2, '0')}` }, spec: { pad: 'y'.repeat(4000) } });
    // Many tiny items too: the separators between them count towards the limit.
    for (let i = 0; i < 1500; i++) await global.store.create({ meta: { type: 'GlobalSecret', name: `g${i}` }, spec: { data: 'YQ==' } });
    const zone = await startZone(env, global, 'east', { maxMessageBytes: 64 * 1024 });
    await eventually(async () => expect(zone.client.status().lastRevision).toBe(1540));
    expect(await zone.store.list('Mesh')).toHaveLength(40);
    expect(await zone.store.list('GlobalSecret')).toHaveLength(1500);
    expect(zone.client.status().failures).toBe(0);
  });

  it('a zone that stops reading holds at most maxInFlight versions, then is coalesced to one snapshot', async () => {
    const global = await startGlobal(env, { maxInFlight: 3, maxChangesPerDelta: 1, maxLagRevisions: 10, heartbeatTimeoutMs: 60_000 });
    await global.store.create(mesh('m00'));
    const peer = await rawPeer(env, global, await env.issuer.issueZoneToken({ zone: 'east', validFor: 60 }));
    peer.send(hello('east', await global.store.revision()));
    await peer.next((m) => m.type === 'welcome');
    underlying(peer.ws).pause();

    for (let i = 1; i <= 40; i++) await global.store.create(mesh(`m${String(i).padStart(2, '0')}`));
    await eventually(() => expect(global.kds.zone('east')).toMatchObject({ inFlight: 3, deltasSent: 3 }));
    // Nothing more is queued for it however many changes come: the change feed is the only backlog.
    for (let i = 41; i <= 60; i++) await global.store.create(mesh(`m${i}`));
    // Give an unbounded sender every chance to push more before looking.
    await new Promise((r) => setTimeout(r, 200));
    expect(global.kds.zone('east')).toMatchObject({ inFlight: 3, deltasSent: 3, snapshotsSent: 0 });
    expect(global.kds.zone('east')?.bufferedBytes).toBeLessThan(64 * 1024);

    underlying(peer.ws).resume();
    await eventually(() => expect(peer.received.filter((m) => m.type === 'delta')).toHaveLength(3));
    const deltas = peer.received.filter((m): m is Extract<KdsMessage, { type: 'delta' }> => m.type === 'delta');
    expect(deltas.map((d) => [d.since, d.version])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    peer.send({ type: 'ack', version: 4 });

    // 56 revisions behind with maxLagRevisions 10: one snapshot instead of 56 deltas.
    const snap = await peer.next((m) => m.type === 'snapshot');
    expect(snap.type === 'snapshot' && snap.final && snap.resources.length).toBe(61);
    expect(snap.type === 'snapshot' && snap.version).toBe(await global.store.revision());
    expect(global.kds.zone('east')).toMatchObject({ snapshotsSent: 1, deltasSent: 3, inFlight: 1, ackedRevision: 4 });
  });
});

describe('reconnect backoff', () => {
  it('grows exponentially with jitter and is capped', () => {
    const b = { initialMs: 100, maxMs: 1000 };
    for (let i = 0; i < 50; i++) {
      const first = backoffDelay(0, b);
      expect(first).toBeGreaterThanOrEqual(50);
      expect(first).toBeLessThanOrEqual(100);
      const third = backoffDelay(2, b);
      expect(third).toBeGreaterThanOrEqual(200);
      expect(third).toBeLessThanOrEqual(400);
      const late = backoffDelay(40, b);
      expect(late).toBeGreaterThanOrEqual(500);
      expect(late).toBeLessThanOrEqual(1000);
    }
    const samples = new Set(Array.from({ length: 20 }, () => backoffDelay(3, b)));
    expect(samples.size).toBeGreaterThan(1);
  });
});

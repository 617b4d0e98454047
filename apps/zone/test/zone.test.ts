// Global and a zone in one process, over real TLS and a real WebSocket: the wiring of both apps.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createLogger } from '@meshca/common';
import { ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import { BODY_LIMITS, jsonBody } from '@meshca/http';
import { startGlobal, type GlobalControlPlane } from '@meshca/global';
import { eventually } from '@meshca/test/eventually';
import { startZone, type ZoneConfig, type ZoneControlPlane } from '../src/index.js';

const silent = createLogger({ name: 'test', level: 'silent', pretty: false });
let global: GlobalControlPlane;
let zone: ZoneControlPlane;
let onGlobal: ApiClient;
let onZone: ApiClient;
let extensionClosed = false;

const token = (path: string, body: unknown): Promise<string> => onGlobal.callText('POST', path, body);

/** A zone of this global on free ports, with fast heartbeats and reconnects. */
async function zoneConfig(name: string, zoneToken: string): Promise<ZoneConfig> {
  return {
    zone: name,
    globalUrl: global.syncUrl,
    zoneToken,
    ...(global.syncCaFile === undefined ? {} : { globalCaFile: global.syncCaFile }),
    dataDir: await mkdtemp(join(tmpdir(), 'meshca-z-')),
    apiAddress: '127.0.0.1',
    apiPort: 0,
    kds: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1000 },
    backoff: { initialMs: 50, maxMs: 200 },
    log: silent,
  };
}

beforeAll(async () => {
  const globalDir = await mkdtemp(join(tmpdir(), 'meshca-g-'));
  global = await startGlobal({
    dataDir: globalDir,
    apiAddress: '127.0.0.1',
    apiPort: 0,
    log: silent,
    kds: { heartbeatIntervalMs: 200, heartbeatTimeoutMs: 1000 },
  });
  onGlobal = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.adminTokenFile, caCertFile: global.apiCaFile });
  const zoneToken = await token('/tokens/zone', { zone: 'east', validFor: '1h' });
  zone = await startZone({
    ...(await zoneConfig('east', zoneToken)),
    insightIntervalMs: 100,
    extend: async (ctx) => {
      ctx.app.post('/ext/verify', jsonBody(BODY_LIMITS.small), async (req, res) => {
        const result = await ctx.verifier(String((req.body as { token?: string }).token));
        res.json(result.ok ? { ok: true, name: result.claims.name, mesh: result.claims.mesh } : { ok: false, error: result.error.message });
      });
      return { close: async () => void (extensionClosed = true) };
    },
  });
  onZone = await createClient({ name: 'z', address: zone.apiUrl, tokenFile: zone.adminTokenFile, caCertFile: zone.apiCaFile });
});

afterAll(async () => {
  await zone?.close();
  await global?.close();
  expect(extensionClosed).toBe(true);
});

describe('zone wired to global', () => {
  it('receives a Mesh applied on global and serves it read-only', async () => {
    await onGlobal.call('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1' });
    const mesh = await eventually(() => onZone.call<{ name: string }>('GET', '/meshes/m1'));
    expect(mesh.body.name).toBe('m1');
    const err = await onZone.call('PUT', '/meshes/m1', { type: 'Mesh', name: 'm1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ApiCallError);
    expect((err as ApiCallError).status).toBe(405);
    expect((err as ApiCallError).message).toContain('apply this on the global control plane');
    // It names global's real API (its port comes in global's welcome), not a guessed 5681.
    expect((err as ApiCallError).message).toContain(`meshctl --address https://127.0.0.1:${new URL(global.apiUrl).port} apply`);
  });

  it('shows the zone online on global, with its ZoneInsight', async () => {
    const z = await eventually(async () => {
      const r = await onGlobal.call<{ status: { online: boolean; ackedRevision: number } }>('GET', '/zones/east');
      expect(r.body.status.online).toBe(true);
      return r.body;
    });
    expect(z.status.ackedRevision).toBeGreaterThan(0);
    const insight = await eventually(async () => {
      const r = await onGlobal.call<{ connected: boolean; store: string }>('GET', '/zone-insights/east');
      expect(r.body.connected).toBe(true);
      return r.body;
    });
    expect(insight.store).toBe('memory');
    const status = await onZone.call<{ kds: { connected: boolean } }>('GET', '/status');
    expect(status.body.kds.connected).toBe(true);
  });

  it('verifies dataplane tokens on the zone with the published keys, and honours revocation and key rotation', async () => {
    const dpToken = await token('/tokens/dataplane', { mesh: 'm1', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, validFor: '1h' });
    const ok = await eventually(async () => {
      const r = await onZone.call<{ ok: boolean; name?: string }>('POST', '/ext/verify', { token: dpToken });
      expect(r.body.ok).toBe(true);
      return r.body;
    });
    expect(ok.name).toBe('web-1');

    // Rotation: the old key still verifies.
    await onGlobal.call('POST', '/tokens/signing-keys/rotate');
    const fresh = await token('/tokens/dataplane', { mesh: 'm1', name: 'web-2', validFor: '1h' });
    await eventually(async () => expect((await onZone.call<{ ok: boolean }>('POST', '/ext/verify', { token: fresh })).body.ok).toBe(true));
    expect((await onZone.call<{ ok: boolean }>('POST', '/ext/verify', { token: dpToken })).body.ok).toBe(true);

    await onGlobal.call('POST', '/tokens/revoke', { token: dpToken });
    await eventually(async () => {
      const r = await onZone.call<{ ok: boolean; error?: string }>('POST', '/ext/verify', { token: dpToken });
      expect(r.body.ok).toBe(false);
      expect(r.body.error).toContain('revoked');
    });
    const forged = `${fresh.slice(0, -4)}AAAA`;
    expect((await onZone.call<{ ok: boolean; error?: string }>('POST', '/ext/verify', { token: forged })).body.error).toMatch(
      /forged|altered/,
    );
  });

  it('closes an open dataplane connection when its token, or the key that signed it, is revoked on global', async () => {
    await onGlobal.call('PUT', '/meshes/m2', {
      type: 'Mesh',
      name: 'm2',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
    });
    const ca = await readFile(zone.apiCaFile as string, 'utf8');
    const connect = (name: string, dpToken: string) => {
      const ws = new WebSocket(`${zone.apiUrl.replace('https:', 'wss:')}/dataplanes`, {
        ca,
        headers: { authorization: `Bearer ${dpToken}` },
      });
      const messages: { type: string; reason?: string; message?: string }[] = [];
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      const refused = new Promise<number>((resolve) => ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
      ws.on('error', () => {});
      ws.on('message', (d) => messages.push(JSON.parse(String(d)) as { type: string }));
      ws.on('open', () =>
        ws.send(
          JSON.stringify({
            type: 'register',
            dataplane: {
              type: 'Dataplane',
              mesh: 'm2',
              name,
              networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': name } }] },
            },
          }),
        ),
      );
      return { ws, messages, closed, refused };
    };
    const tokenA = await token('/tokens/dataplane', { mesh: 'm2', name: 'web-a', validFor: '1h' });
    const tokenB = await token('/tokens/dataplane', { mesh: 'm2', name: 'web-b', validFor: '1h' });
    const a = connect('web-a', tokenA);
    const b = connect('web-b', tokenB);
    await eventually(async () => {
      expect(a.messages.some((m) => m.type === 'identity')).toBe(true);
      expect(b.messages.some((m) => m.type === 'identity')).toBe(true);
    });

    await onGlobal.call('POST', '/tokens/revoke', { token: tokenA });
    expect(await a.closed).toBe(4403);
    expect(a.messages.at(-1)).toMatchObject({ type: 'refused', reason: 'forbidden' });
    expect(a.messages.at(-1)?.message).toMatch(/no longer valid: token .* was revoked/);
    expect(b.ws.readyState).toBe(WebSocket.OPEN);
    expect(await connect('web-a', tokenA).refused).toBe(401);

    // Key revocation: web-b's token was signed by the current key; rotate, then revoke that key.
    const signer = (await onGlobal.call<{ items: { kid: string; signing: boolean }[] }>('GET', '/tokens/signing-keys')).body.items.find(
      (k) => k.signing,
    );
    await onGlobal.call('POST', '/tokens/signing-keys/rotate');
    await onGlobal.call('POST', '/tokens/signing-keys/revoke', { kid: signer?.kid });
    expect(await b.closed).toBe(4403);
    expect(b.messages.at(-1)?.message).toContain(`signing key ${signer?.kid} was revoked`);
  });

  it('ends an open zone stream when its zone token is revoked, and refuses the reconnect', async () => {
    const westToken = await token('/tokens/zone', { zone: 'west', validFor: '1h' });
    const west = await startZone(await zoneConfig('west', westToken));
    try {
      await eventually(async () => expect(west.kds.status().connected).toBe(true));
      await onGlobal.call('POST', '/tokens/revoke', { token: westToken });
      const status = await eventually(async () => {
        const s = west.kds.status();
        expect(s.connected).toBe(false);
        expect(s.lastError).toMatch(/was revoked/);
        return s;
      });
      expect(status.failures).toBeGreaterThanOrEqual(1);
      const onGlobalWest = await eventually(async () => {
        const r = await onGlobal.call<{ status: { online: boolean; lastDisconnect?: string } }>('GET', '/zones/west');
        expect(r.body.status.online).toBe(false);
        return r.body.status;
      });
      expect(onGlobalWest.lastDisconnect).toContain('zone token is no longer valid');
      // East, whose token is untouched, stays connected.
      expect(zone.kds.status().connected).toBe(true);
    } finally {
      await west.close();
    }
  });

  it('never publishes a private key to zones', async () => {
    const secret = await onZone.call<{ data: string }>('GET', '/global-secrets/meshca-token-verification');
    const published = JSON.parse(Buffer.from(secret.body.data, 'base64').toString()) as { keys: { jwk: Record<string, unknown> }[] };
    const onGlobalKeys = (await onGlobal.call<{ items: unknown[] }>('GET', '/tokens/signing-keys')).body.items;
    expect(published.keys.length).toBe(onGlobalKeys.length);
    expect(published.keys.length).toBeGreaterThanOrEqual(2);
    for (const k of published.keys) expect(k.jwk.d).toBeUndefined();
  });
});

// The GUI's server side over a real memory store and HTTP: the views, the dataplane filters and
// pages, ETags, the events feed, and the page's headers. (The browser tests are test/e2e/gui.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { caStateOfInsight, type DataplaneInsightLike, type ResourceInput } from '@meshca/api';
import { createLogger } from '@meshca/common';
import { errorHandler } from '@meshca/http';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { createGui } from '../src/index.js';
import type { DataplanePage, MeshView, Overview, ZoneDetail } from '../src/contract.js';
import type { GuiSource } from '../src/source.js';

const HOUR = 3600_000;
let store: ResourceStore;
let server: Server;
let base: string;
let assets: string;
let zonesVersion = 0;
const zones: ZoneDetail[] = [
  {
    name: 'east',
    online: true,
    nacks: 0,
    nackList: [],
    refused: [],
    backends: [
      {
        mesh: 'default',
        backend: 'ca-1',
        type: 'builtin',
        available: true,
        ca: { subject: 'CN=ca-1', notAfter: '2036-01-01T00:00:00.000Z' },
      },
    ],
  },
  {
    name: 'west',
    online: false,
    nacks: 1,
    nackList: [{ revision: 3, reason: 'bad', at: '2026-01-01T00:00:00.000Z' }],
    refused: [],
    backends: [],
  },
];

function dataplane(
  zone: string,
  i: number,
  opts: { expiresInMs: number; lifetimeMs?: number; trusts?: string[]; error?: string; connected?: boolean },
): ResourceInput[] {
  const name = `${zone}.dp-${i}`;
  const notAfter = Date.now() + opts.expiresInMs;
  return [
    {
      meta: { type: 'Dataplane', mesh: 'default', name, labels: { 'kuma.io/zone': zone } },
      spec: { networking: { address: '10.0.0.1', inbound: [{ port: 80, tags: { 'kuma.io/service': `svc-${i % 3}` } }] } },
    },
    {
      meta: { type: 'DataplaneInsight', mesh: 'default', name, labels: { 'kuma.io/zone': zone } },
      spec: {
        zone,
        connected: opts.connected ?? true,
        mTLS: {
          issuedBackend: 'ca-1',
          certificateSerial: `0a${i}`,
          certificateExpirationTime: new Date(notAfter).toISOString(),
          lastCertificateRegeneration: new Date(notAfter - (opts.lifetimeMs ?? 24 * HOUR)).toISOString(),
          supportedBackends: opts.trusts ?? ['ca-1'],
          ...(opts.error ? { lastError: { message: opts.error, at: new Date().toISOString() } } : {}),
          certificate: {
            subject: '',
            issuer: 'CN=ca-1',
            notBefore: new Date().toISOString(),
            uriSans: [`spiffe://default/svc-${i % 3}`],
            sha256: 'ab',
            chain: [],
          },
        },
      },
    },
  ];
}

async function get<T>(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T; etag: string | null; res: Response }> {
  const res = await fetch(`${base}${path}`, { headers });
  const text = await res.text();
  return {
    status: res.status,
    body: (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T,
    etag: res.headers.get('etag'),
    res,
  };
}

beforeAll(async () => {
  store = createMemoryStore();
  await store.create({
    meta: { type: 'Mesh', name: 'default' },
    spec: {
      mtls: {
        enabledBackend: 'ca-1',
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-2', type: 'builtin' },
        ],
      },
    },
  });
  const writes: ResourceInput[] = [];
  // east: 20 dataplanes, one late (1 h left of 24 h), one failing, one expired; west: 10, one disconnected.
  for (let i = 0; i < 20; i++)
    writes.push(
      ...dataplane('east', i, {
        expiresInMs: i === 0 ? 1 * HOUR : i === 1 ? -60_000 : 20 * HOUR - i * 60_000,
        ...(i === 2 ? { error: 'CA down' } : {}),
      }),
    );
  for (let i = 0; i < 10; i++)
    writes.push(...dataplane('west', i, { expiresInMs: 10 * HOUR + i * 60_000, trusts: ['ca-1', 'ca-2'], connected: i !== 9 }));
  for (const input of writes) await store.create(input);
  assets = mkdtempSync(join(tmpdir(), 'meshca-gui-assets-'));
  writeFileSync(join(assets, 'index.html'), '<!doctype html><title>meshca</title>');
  writeFileSync(join(assets, 'app.js'), 'console.log(1)');
  const source: GuiSource = {
    mode: 'global',
    version: 'test',
    store,
    zones: async () => zones,
    zonesVersion: () => zonesVersion,
    rotationView: async (mesh) => ({
      dataplanes: (await store.list('DataplaneInsight', { mesh })).map((r) =>
        caStateOfInsight({ ...(r.spec as Omit<DataplaneInsightLike, 'name'>), name: r.meta.name }),
      ),
      offlineZones: [],
    }),
  };
  const app = express();
  app.use(createGui({ source, adminToken: 'secret-token', assetsDir: assets, pollMs: 50 }).router);
  app.use(errorHandler(createLogger({ name: 'gui-test', level: 'silent', pretty: false })));
  server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(assets, { recursive: true, force: true });
});

describe('GUI views', () => {
  it('dataplanes: one page, soonest expiry first, with the totals and facets over all of them', async () => {
    const { body } = await get<DataplanePage>('/gui/api/dataplanes?size=5');
    expect(body.total).toBe(30);
    expect(body.items).toHaveLength(5);
    expect(body.items.map((d) => d.name).slice(0, 2)).toEqual(['east.dp-1', 'east.dp-0']); // expired, then 1 h left
    expect(body.facets).toEqual({
      meshes: ['default'],
      zones: ['east', 'west'],
      services: ['svc-0', 'svc-1', 'svc-2'],
      backends: ['ca-1'],
    });
    const next = await get<DataplanePage>('/gui/api/dataplanes?size=5&offset=25');
    expect(next.body.items).toHaveLength(5);
    expect(next.body.offset).toBe(25);
  });

  it('dataplanes: filters by zone, service, name, failing, late and expiring within a duration', async () => {
    const total = async (q: string) => (await get<DataplanePage>(`/gui/api/dataplanes?${q}`)).body.total;
    expect(await total('zone=west')).toBe(10);
    // An offline zone's rows are marked as what it reported last.
    const west = (await get<DataplanePage>('/gui/api/dataplanes?zone=west&size=1')).body.items[0];
    const east = (await get<DataplanePage>('/gui/api/dataplanes?zone=east&size=1')).body.items[0];
    expect([west?.zoneOffline, east?.zoneOffline]).toEqual([true, undefined]);
    expect(await total('zone=east&service=svc-1')).toBe(7);
    expect(await total('q=DP-1')).toBe(12); // east.dp-1, dp-10..19, west.dp-1
    expect(await total('errors=1')).toBe(1);
    // Late: less than 1/5 of the 24 h lifetime left (the expired one and the one with 1 h left).
    expect(await total('expiresWithin=soon')).toBe(2);
    expect(await total('expiresWithin=0')).toBe(1);
    expect(await total('expiresWithin=2h')).toBe(2);
    // Connected only: west.dp-9 is disconnected.
    expect(await total('expiresWithin=11h&zone=west')).toBe(9);
    const byName = await get<DataplanePage>('/gui/api/dataplanes?sort=name&size=2');
    expect(byName.body.items.map((d) => d.name)).toEqual(['east.dp-0', 'east.dp-1']);
  });

  it('refuses a bad query, saying what to write', async () => {
    const r = await get<{ detail: string }>('/gui/api/dataplanes?expiresWithin=soonish');
    expect(r.status).toBe(400);
    expect(r.body.detail).toMatch(/expiresWithin: seconds or a duration/);
    expect((await get<{ detail: string }>('/gui/api/dataplanes?size=5000')).body.detail).toMatch(/size: a whole number from 0 to 200/);
  });

  it('dataplane detail: tags, address, the certificate; 404 for an unknown one', async () => {
    const r = await get<{ service: string; tags: Record<string, string[]>; address: string; certificate: { issuer: string } }>(
      '/gui/api/dataplanes/default/east.dp-4',
    );
    expect(r.body).toMatchObject({
      service: 'svc-1',
      tags: { 'kuma.io/service': ['svc-1'] },
      address: '10.0.0.1',
      certificate: { issuer: 'CN=ca-1' },
    });
    expect((await get('/gui/api/dataplanes/default/nope')).status).toBe(404);
  });

  it('overview: zones, meshes, dataplanes per zone, the late certificates, and the problems with links', async () => {
    const { body } = await get<Overview>('/gui/api/overview');
    // west is offline: its counts are what it reported last, and say so.
    expect(body.dataplanesByZone).toEqual([
      { zone: 'east', total: 20, connected: 20, online: true },
      { zone: 'west', total: 10, connected: 9, online: false },
    ]);
    expect(body.meshes).toEqual([
      {
        name: 'default',
        enabledBackend: 'ca-1',
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-2', type: 'builtin' },
        ],
        identities: 0,
        dataplanes: 30,
      },
    ]);
    expect(body.expiringSoon.total).toBe(2);
    expect(body.problems.map((p) => [p.kind, p.link])).toEqual([
      ['zone-offline', '#/zones'],
      ['zone-nack', '#/zones'],
      ['issuance-failing', '#/dataplanes?errors=1'],
      ['certificate-expired', '#/dataplanes?expiresWithin=0'],
    ]);
  });

  it("mesh: backends with the zones' CA reports, the rotation per zone, and why ca-2 cannot be switched to yet", async () => {
    const { body } = await get<MeshView>('/gui/api/meshes/default');
    expect(body.backends[0]).toMatchObject({
      name: 'ca-1',
      enabled: true,
      ca: { subject: 'CN=ca-1' },
      zones: [{ zone: 'east', online: true, available: true }],
    });
    // west is offline: its 9 connected dataplanes are counted apart.
    expect([body.offlineZones, body.dataplanes]).toEqual([['west'], { total: 30, connected: 20, inOfflineZones: 9 }]);
    expect(body.rotation.find((r) => r.backend === 'ca-2' && r.zone === 'west')).toMatchObject({ dataplanes: 9, trusting: 9, holding: 0 });
    const steps = Object.fromEntries(body.steps.map((s) => [`${s.step} ${s.backend ?? ''}`.trim(), s]));
    expect(steps.add?.allowed).toBe(true);
    // east's dataplanes do not trust ca-2 yet: the validators refuse the switch and say why.
    expect(steps['switch ca-2']?.allowed).toBe(false);
    expect(steps['switch ca-2']?.reasons.join(' ')).toMatch(/ca-2/);
    // Nothing holds a ca-2 certificate: it may be removed.
    expect(steps['remove ca-2']?.allowed).toBe(true);
    expect((await get('/gui/api/meshes/nope')).status).toBe(404);
  });

  it('answers 304 while nothing changed, and the new view once the store or a zone changes', async () => {
    const first = await get('/gui/api/zones');
    expect(first.etag).toMatch(/^W\//);
    expect((await get('/gui/api/zones', { 'if-none-match': first.etag ?? '' })).status).toBe(304);
    zonesVersion++;
    expect((await get('/gui/api/zones', { 'if-none-match': first.etag ?? '' })).status).toBe(200);
  });

  it('the events feed says when something changed', async () => {
    const ctl = new AbortController();
    const res = await fetch(`${base}/gui/api/events`, { signal: ctl.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    const events: string[] = [];
    const read = async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        events.push(...value.split('\n').filter((l) => l.startsWith('data: ')));
      }
    };
    const reading = read().catch(() => {});
    await new Promise((r) => setTimeout(r, 150));
    expect(events).toHaveLength(1); // the current version
    await store.create({ meta: { type: 'Mesh', name: 'other' }, spec: {} });
    await new Promise((r) => setTimeout(r, 200));
    expect(events).toHaveLength(2);
    ctl.abort();
    await reading;
  });

  it('serves the page with a strict Content-Security-Policy, its assets, also at /gui', async () => {
    const page = await get<string>('/gui/');
    expect(page.status).toBe(200);
    expect(page.res.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(page.res.headers.get('content-type')).toMatch(/text\/html/);
    expect((await get('/gui/#/zones')).status).toBe(200);
    expect((await get('/gui/assets/app.js')).status).toBe(200);
    expect((await get<string>('/gui')).body).toContain('<title>meshca</title>');
  });
});

describe('GUI events feed', () => {
  it('looks at the store once per tick however many pages are open, and each page hears the changes', async () => {
    let looks = 0;
    const counted = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'revision') return () => (looks++, target.revision());
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const source: GuiSource = { mode: 'zone', zone: 'east', version: 'test', store: counted, zones: async () => [], zonesVersion: () => 0 };
    const gui = createGui({ source, adminToken: 'secret-token', assetsDir: assets, pollMs: 40 });
    const app = express();
    app.use(gui.router);
    const srv = createServer(app);
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}/gui/api/events`;
    const pages = await Promise.all(
      Array.from({ length: 5 }, async () => {
        const res = await fetch(url);
        const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
        const seen: string[] = [];
        const reading = (async () => {
          for (;;) {
            const { value, done } = await reader.read();
            if (done) return;
            seen.push(...value.split('\n').filter((l) => l.startsWith('data: ')));
          }
        })().catch(() => {});
        return { seen, reading };
      }),
    );
    looks = 0;
    await new Promise((r) => setTimeout(r, 400));
    // About 10 ticks of 40 ms: one look each, not one per page (which would be about 50).
    expect(looks).toBeGreaterThan(3);
    expect(looks).toBeLessThan(20);
    await store.create({ meta: { type: 'Mesh', name: 'feed-test' }, spec: {} });
    await new Promise((r) => setTimeout(r, 200));
    for (const p of pages) expect(p.seen).toHaveLength(2); // the version on opening, then the change
    gui.close();
    await Promise.all(pages.map((p) => p.reading));
    await new Promise((r) => srv.close(r));
  });
});

// The OpenAPI documents against the real routes: every route the global app and the zone app
// register (each started as its binary starts it) is documented, and every documented
// operation is a route. Routes are read from the express apps themselves (router.listRoutes).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@meshca/common';
import { openApiDocument } from '../../libs/http/src/openapi.js';

// startGlobal builds its app inside; keep every app made by createApiApp to read its routes.
const apps = vi.hoisted(() => [] as Express[]);
vi.mock('@meshca/http', async (importOriginal) => {
  const http = await importOriginal<typeof import('@meshca/http')>();
  return {
    ...http,
    createApiApp: (...args: Parameters<typeof http.createApiApp>) => {
      const app = http.createApiApp(...args);
      apps.push(app);
      return app;
    },
  };
});
const { startGlobal } = await import('@meshca/global');
const { startZone } = await import('@meshca/zone');

/** Operations the documents describe that are not mounted yet (none); this test fails when one is. */
const NOT_MOUNTED_YET = new Set<string>();

interface ListedRoute {
  path: string | RegExp;
  methods: string[] | undefined;
  router: { listRoutes?: () => ListedRoute[] } | undefined;
}

/** `GET /meshes/{name}` for every route of `app`, mounted routers included (HEAD and OPTIONS are express's own). */
function routesOf(app: Express): Set<string> {
  const out = new Set<string>();
  const walk = (router: { listRoutes?: () => ListedRoute[] }, prefix: string): void => {
    if (typeof router.listRoutes !== 'function')
      throw new Error('this express router has no listRoutes(); router >= 2.3 is needed to read the routes');
    for (const r of router.listRoutes()) {
      if (typeof r.path !== 'string')
        throw new Error(`a route is a RegExp (${String(r.path)}): describe it in the OpenAPI documents and teach this test to read it`);
      const path = `${prefix}${r.path === '/' && r.router ? '' : r.path}`;
      if (r.router) walk(r.router, path);
      for (const m of r.methods ?? []) {
        if (m === 'HEAD' || m === 'OPTIONS') continue;
        if (m === '*') throw new Error(`${path} has an app.all() route: list its methods in the OpenAPI documents and here`);
        out.add(`${m.toUpperCase()} ${path.replace(/:(\w+)/g, '{$1}') || '/'}`);
      }
    }
  };
  walk((app as unknown as { router: { listRoutes?: () => ListedRoute[] } }).router, '');
  return out;
}

function documented(kind: 'global' | 'zone'): Set<string> {
  const out = new Set<string>();
  for (const [path, item] of Object.entries(openApiDocument(kind).paths)) {
    for (const method of Object.keys(item)) {
      if (['get', 'put', 'post', 'delete', 'patch'].includes(method)) out.add(`${method.toUpperCase()} ${path}`);
    }
  }
  return out;
}

function compare(kind: 'global' | 'zone', routes: Set<string>): void {
  const docs = documented(kind);
  const undocumented = [...routes].filter((r) => !docs.has(r)).sort();
  const missing = [...docs].filter((d) => !routes.has(d) && !NOT_MOUNTED_YET.has(d)).sort();
  const mountedNow = [...NOT_MOUNTED_YET].filter((d) => routes.has(d));
  expect(
    undocumented,
    `routes of the ${kind} app missing from libs/http/openapi/${kind}.json (add them in libs/http/openapi/generate.ts)`,
  ).toEqual([]);
  expect(missing, `operations in libs/http/openapi/${kind}.json that the ${kind} app does not have`).toEqual([]);
  expect(mountedNow, 'mounted now: remove them from NOT_MOUNTED_YET in test/openapi/routes.test.ts').toEqual([]);
}

describe('OpenAPI documents against the express routes', () => {
  let dataDir: string;
  const closers: (() => Promise<void>)[] = [];
  let globalApp: Express;
  let zoneApp: Express;

  // Both started as their binaries start them: global, then a zone connected to it.
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'meshca-openapi-routes-'));
    const log = createLogger({ name: 'test', level: 'silent', pretty: false });
    const cp = await startGlobal({ dataDir: join(dataDir, 'global'), apiAddress: '127.0.0.1', apiPort: 0, log });
    closers.unshift(() => cp.close());
    globalApp = apps[apps.length - 1]!;
    const zone = await startZone({
      zone: 'east',
      globalUrl: cp.syncUrl,
      zoneToken: await cp.tokens.issueZoneToken({ zone: 'east', validFor: 3600 }),
      ...(cp.syncCaFile === undefined ? {} : { globalCaFile: cp.syncCaFile }),
      dataDir: join(dataDir, 'zone'),
      apiAddress: '127.0.0.1',
      apiPort: 0,
      log,
    });
    closers.unshift(() => zone.close());
    zoneApp = apps[apps.length - 1]!;
    expect(apps).toHaveLength(2);
  });
  afterAll(async () => {
    for (const close of closers) await close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('global: every route is documented and every documented operation is a route', () => {
    const routes = routesOf(globalApp);
    // Sanity: the walk found the token and zone routers and the resource routes.
    expect(routes).toContain('POST /tokens/zone');
    expect(routes).toContain('GET /zones/{name}');
    expect(routes).toContain('PUT /meshes/{name}');
    expect(routes.size).toBeGreaterThan(40);
    compare('global', routes);
  });

  it('zone: every route is documented and every documented operation is a route', () => {
    const routes = routesOf(zoneApp);
    expect(routes).toContain('GET /status');
    expect(routes).toContain('PUT /meshes/{name}');
    compare('zone', routes);
  });
});

import express, { type Express } from 'express';
import type { Logger } from '@meshca/common';
import type { ResourceStore } from '@meshca/store';
import { errorHandler } from './errors.js';
import { openApiDocument } from './openapi.js';
import { resourceRouter, type ResourceApiOptions } from './resources.js';

export interface ApiInfo {
  mode: 'global' | 'zone';
  version: string;
  instanceId: string;
  store: string;
  zone?: string;
}

export interface AppOptions extends ResourceApiOptions {
  info: ApiInfo;
  log: Logger;
  store: ResourceStore;
  /** Extra routes mounted before the resource routes (e.g. zone status, tokens). */
  extend?: (app: Express) => void;
}

export function createApiApp(opts: AppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  // No app-wide body parser: each route reads its body after its auth check (see body.ts).
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      opts.log.debug({ method: req.method, path: req.path, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'http');
    });
    next();
  });
  app.get('/', (_req, res) => {
    res.json({ product: 'meshca', tagline: 'meshca', ...opts.info, hostname: process.env.HOSTNAME ?? 'localhost' });
  });
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/readyz', async (_req, res) => {
    try {
      res.json({ status: 'ready', revision: await opts.store.revision() });
    } catch {
      res.status(503).json({ status: 'not ready', detail: 'the store does not answer' });
    }
  });
  // The API's own description, open like `/`: it holds no data.
  app.get('/openapi.json', (_req, res) => {
    res.json(openApiDocument(opts.info.mode));
  });
  opts.extend?.(app);
  app.use(resourceRouter(opts));
  app.use((req, res) => {
    res.status(404).json({ status: 404, title: 'Not found', detail: `no route ${req.method} ${req.path}`, causes: [] });
  });
  app.use(errorHandler(opts.log));
  return app;
}

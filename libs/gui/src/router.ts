// /gui on the control plane's own API port: the page and its assets (open: they hold no data), and
// the JSON views under /gui/api with the API's read rule (open from localhost, the admin token from
// anywhere else). Each view answers 304 to a client whose ETag is current, and /gui/api/events
// tells open pages when something they show may have changed.
import { readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import { parseDuration } from '@meshca/api';
import { ApiError, requireReader } from '@meshca/http';
import type { ChangeEvent, DataplaneSort } from './contract.js';
import { createDataplaneIndex, type DataplaneQuery } from './dataplane-index.js';
import { meshView } from './mesh-view.js';
import { overview } from './overview.js';
import type { GuiSource } from './source.js';

export interface GuiOptions {
  source: GuiSource;
  adminToken: string;
  /** The built browser app: index.html, app.js, app.css (apps/*\/dist/gui). */
  assetsDir: string;
  /** How often the events feed looks for changes. Default 500 ms. */
  pollMs?: number;
}

const MAX_PAGE = 200;

// The page runs only its own script and talks only to its own origin.
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

export interface Gui {
  router: Router;
  /** Ends the open event streams: a page left open must not hold the server's close. */
  close(): void;
}

export function createGui(opts: GuiOptions): Gui {
  const { source } = opts;
  const index = createDataplaneIndex(source.store);
  // Strict: "/gui" and "/gui/" are two routes (both the page), as the API documents them.
  const router = express.Router({ strict: true });

  /**
   * Changes when anything a view shows may have changed: the store's dataset and revision, the
   * zones' states, and the minute (for times left and "expires within").
   */
  const version = async (): Promise<string> => {
    const [epoch, revision] = await Promise.all([source.store.epoch(), source.store.revision()]);
    return `${epoch.slice(0, 8)}.${revision}.${source.zonesVersion()}.${Math.floor(Date.now() / 60_000)}`;
  };

  /** Answers 304 when the client holds this version of this URL; else sends what `body` makes. */
  async function view(req: Request, res: Response, body: () => Promise<unknown>): Promise<void> {
    const tag = `W/"${await version()}"`;
    res.set({ etag: tag, 'cache-control': 'no-cache' });
    if (req.get('if-none-match') === tag) {
      res.status(304).end();
      return;
    }
    const value = await body();
    if (value === undefined) throw new ApiError(404, 'Not found', `nothing at ${req.path}`);
    res.json(value);
  }

  // One page for every view: they are addressed by the URL's hash (#/zones), which never reaches us.
  router.get(['/gui', '/gui/'], async (_req, res) => {
    let html: string;
    try {
      html = await readFile(join(opts.assetsDir, 'index.html'), 'utf8');
    } catch {
      throw new ApiError(503, 'GUI not built', `no ${join(opts.assetsDir, 'index.html')}: run npm run build`);
    }
    res.set({ ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
    res.send(html);
  });
  router.use(
    '/gui/assets',
    (_req, res, next) => {
      res.set(SECURITY_HEADERS);
      next();
    },
    express.static(opts.assetsDir, { index: false, cacheControl: true, maxAge: 0, fallthrough: false }),
  );

  const read = requireReader(opts.adminToken, false);
  router.use('/gui/api', read);
  router.get('/gui/api/overview', (req, res) => view(req, res, () => overview(source, index)));
  router.get('/gui/api/zones', (req, res) => view(req, res, async () => ({ items: await source.zones() })));
  router.get('/gui/api/meshes/:mesh', (req, res) =>
    view(req, res, async () => {
      const mesh = await meshView(source, String(req.params.mesh));
      if (mesh === undefined) throw new ApiError(404, 'Not found', `no Mesh "${String(req.params.mesh)}"`);
      return mesh;
    }),
  );
  router.get('/gui/api/dataplanes', (req, res) => view(req, res, async () => index.page(queryOf(req), await offlineZones(source))));
  router.get('/gui/api/dataplanes/:mesh/:name', (req, res) =>
    view(req, res, async () => {
      const [mesh, name] = [String(req.params.mesh), String(req.params.name)];
      const found = await index.detail(mesh, name, await offlineZones(source));
      if (found === undefined && source.mode === 'zone' && name.includes('.')) {
        throw new ApiError(
          404,
          'Not found',
          `no dataplane "${name}" in mesh "${mesh}" on this zone: a zone names its dataplanes without the "<zone>." that global puts in front`,
        );
      }
      if (found === undefined) throw new ApiError(404, 'Not found', `no dataplane "${name}" in mesh "${mesh}"`);
      return found;
    }),
  );
  // One look at the store per tick for every open page, not one per page: each stream is told the
  // version when it opens and whenever it changes.
  const streams = new Set<Response>();
  let current = '';
  let beat = 0;
  let ticker: NodeJS.Timeout | undefined;
  const send = (res: Response, v: string) => res.write(`event: change\ndata: ${JSON.stringify({ version: v } satisfies ChangeEvent)}\n\n`);
  const tick = async (): Promise<void> => {
    const now = await version().catch(() => current);
    if (now !== current) {
      current = now;
      for (const res of streams) send(res, now);
    } else if (++beat % 30 === 0) for (const res of streams) res.write(': still here\n\n'); // keeps proxies from closing an idle stream
  };
  router.get('/gui/api/events', async (req, res) => {
    res.set({ 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    if (streams.size === 0) current = await version();
    streams.add(res);
    send(res, current);
    ticker ??= setInterval(() => void tick(), opts.pollMs ?? 500);
    req.on('close', () => {
      streams.delete(res);
      if (streams.size === 0 && ticker !== undefined) {
        clearInterval(ticker);
        ticker = undefined;
      }
    });
  });
  return {
    router,
    close() {
      // The page reconnects with backoff and finds the next process (or this one again).
      if (ticker !== undefined) clearInterval(ticker);
      ticker = undefined;
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

/** Global: the zones that are offline now (their dataplanes' rows are what they reported last). */
export async function offlineZones(source: GuiSource): Promise<ReadonlySet<string>> {
  if (source.mode !== 'global') return new Set();
  return new Set((await source.zones()).filter((z) => !z.online).map((z) => z.name));
}

function queryOf(req: Request): DataplaneQuery {
  const q = req.query as Record<string, string | undefined>;
  const int = (name: string, fallback: number, max: number): number => {
    const v = q[name];
    if (v === undefined || v === '') return fallback;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new ApiError(400, 'Bad request', `${name}: a whole number from 0 to ${max}`);
    return n;
  };
  const sort = (q.sort ?? 'expiry') as DataplaneSort;
  if (sort !== 'expiry' && sort !== 'name') throw new ApiError(400, 'Bad request', 'sort: expiry or name');
  let within: number | undefined;
  if (q.expiresWithin !== undefined && q.expiresWithin !== '' && q.expiresWithin !== 'soon') {
    try {
      within = /^\d+$/.test(q.expiresWithin) ? Number(q.expiresWithin) : parseDuration(q.expiresWithin);
    } catch {
      throw new ApiError(400, 'Bad request', 'expiresWithin: seconds or a duration such as 1h or 30m');
    }
  }
  const text = (name: string) => (q[name] === undefined || q[name] === '' ? {} : { [name]: q[name] });
  return {
    ...text('mesh'),
    ...text('zone'),
    ...text('service'),
    ...text('backend'),
    ...text('q'),
    ...(within !== undefined ? { expiresWithinSeconds: within } : {}),
    ...(q.errors === '1' ? { errors: true } : {}),
    ...(q.expiresWithin === 'soon' ? { soon: true } : {}),
    sort,
    offset: int('offset', 0, Number.MAX_SAFE_INTEGER),
    size: int('size', 50, MAX_PAGE),
  };
}

/** Where the built GUI is, seen from a module of an app: beside its bundle (dist/gui), or its dist from src. */
export function guiAssetsDir(moduleUrl: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const candidates = [join(here, 'gui'), join(here, '..', 'dist', 'gui')];
  return candidates.find((d) => existsSync(join(d, 'index.html'))) ?? (candidates[0] as string);
}

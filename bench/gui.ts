// The web GUI's dataplanes view with 10,000 dataplanes, in a real Chromium (playwright-core, the
// system's /usr/bin/chromium), next to the same view with 100 dataplanes measured in the same run
// (the floor: what the page costs when the data costs nothing).
// Run: node --import tsx bench/gui.ts [--dataplanes 10000] [--floor 100] [--tries 5] [--json]   (about 40 s)
//
// Two globals run in this process, each on a memory store seeded directly with a Mesh and N
// Dataplanes and DataplaneInsights (as zones write them) across 4 zones. Each try opens the view in
// a fresh browser context (no cache, no cookies); the tries of the two globals alternate so both
// see the same machine. Times are taken in the page (performance.now(), the navigation's clock):
// - first paint: navigation start until the frame after the status line says "of N dataplanes" and
//   the table holds its first page;
// - filter: the Zone select's change event until the frame after the status line shows the zone's
//   total and the table only rows of that zone.
// Bytes are every response body and header the browser received for the page (CDP Network events:
// the page's events feed never finishes, so its bytes are counted as they arrive), from the
// navigation until the view is loaded and, separately, until one filter later.
// The JSON figures are this process's HTTPS GETs (a kept-alive connection, so no handshake) of the
// view's first page: warm (the server's index built) and after a store change (the index brought up to date from the change feed).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import type { ResourceInput } from '@meshca/api';
import { createLogger } from '@meshca/common';
import { startGlobal, type GlobalControlPlane } from '@meshca/global';
import type { StoreWrite } from '@meshca/store';
import { numberFlag as flag } from './flags.js';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
const GUI_DIR = join(REPO_ROOT, 'apps/global/dist/gui');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ZONES = 4;
const PAGE_ROWS = 50;
/** The zone picked in the filter (a quarter of the dataplanes). */
const FILTER_ZONE = 'zone-2';

export const GUI_TARGETS = {
  /** First paint and filter at N within this factor of the floor's. */
  overFloor: 2,
  /** Everything the browser downloads for the dataplanes view. */
  pageBytes: 200 * 1024,
  dataplanes: 10_000,
} as const;

export interface GuiBenchOptions {
  dataplanes?: number;
  /** The floor's dataplanes (default 100). */
  floor?: number;
  /** Measured tries per figure and size (default 5); each figure is their median. */
  tries?: number;
}

/** One size's figures (medians of the tries). */
export interface GuiFigures {
  dataplanes: number;
  /** Seeding the store directly (context, not a GUI figure). */
  seedMs: number;
  /** Navigation start until the frame after the view shows its first page. */
  firstPaintMs: number;
  /** The same moment as it is in the DOM, before the frame. */
  firstPaintDomMs: number;
  /** The Zone select's change event until the frame after the filtered page shows. */
  filterMs: number;
  /** Dataplanes in the zone filtered to (the filtered page shows up to 50 of them). */
  filteredTotal: number;
  firstPaintTriesMs: number[];
  filterTriesMs: number[];
  /** Bytes received (bodies and headers) from navigation until the view is loaded. */
  loadBytes: number;
  /** Bytes received from navigation until one filter later. */
  loadAndFilterBytes: number;
  /** The largest per-request byte counts of the last try, for the record. */
  byRequest: { url: string; status: number; bytes: number }[];
  /** GET /gui/api/dataplanes?offset=0&size=50 requests the page made while loading (before the filter). */
  pageRequestsAtLoad: number;
  /** GET /gui/api/dataplanes?offset=0&size=50: median, warm. */
  jsonMs: number;
  /** Its body, bytes. */
  jsonBytes: number;
  /** The same, first request after a store change (the index updated from the change feed): median. */
  jsonAfterChangeMs: number;
  /** GET /gui/api/dataplanes filtered by zone: median, warm. */
  jsonFilteredMs: number;
  /** GET /gui/api/overview (the header asks for it on every view): median, warm. */
  overviewMs: number;
}

export interface GuiBenchResult {
  chromium: string;
  tries: number;
  full: GuiFigures;
  floor: GuiFigures;
  /** Anything the page did that it should not have (wrong totals, rows of other zones, refetches). */
  problems: string[];
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};
const round1 = (v: number): number => Math.round(v * 10) / 10;

// ---------------------------------------------------------------- seeding

function seedWrites(n: number, now: number): StoreWrite[] {
  const day = 24 * 3600_000;
  const writes: StoreWrite[] = [];
  for (let i = 0; i < n; i++) {
    const zone = `zone-${i % ZONES}`;
    const name = `${zone}.dp-${i}`;
    const labels = { 'kuma.io/zone': zone };
    // Spread over the next 24 h; issued 24 h before (a 24 h lifetime).
    const notAfter = now + Math.round(((i + 1) / n) * day);
    const dataplane: ResourceInput = {
      meta: { type: 'Dataplane', mesh: 'default', name, labels },
      spec: { networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': `svc-${i % 100}` } }] } },
    };
    const insight: ResourceInput = {
      meta: { type: 'DataplaneInsight', mesh: 'default', name, labels },
      spec: {
        zone,
        connected: true,
        connectedAt: new Date(now - 3600_000).toISOString(),
        csr: false,
        mTLS: {
          issuedBackend: 'ca-1',
          certificateSerial: randomBytes(16).toString('hex'),
          certificateExpirationTime: new Date(notAfter).toISOString(),
          lastCertificateRegeneration: new Date(notAfter - day).toISOString(),
          certificateRegenerations: 1,
          supportedBackends: ['ca-1'],
        },
      },
    };
    writes.push({ op: 'create', input: dataplane }, { op: 'create', input: insight });
  }
  return writes;
}

/** Waits until the store's revision holds still for `quietMs` (global's own writers, as the MeshInsight, are done). */
async function settled(g: GlobalControlPlane, quietMs = 1000, maxMs = 15_000): Promise<void> {
  const until = Date.now() + maxMs;
  let last = await g.store.revision();
  let since = Date.now();
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 100));
    const now = await g.store.revision();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) return;
  }
}

interface Started {
  global: GlobalControlPlane;
  dataDir: string;
  dataplanes: number;
  seedMs: number;
  ca: Buffer;
  agent: Agent;
}

async function startSeeded(n: number, dirs: string[], started: GlobalControlPlane[]): Promise<Started> {
  const dataDir = await mkdtemp(join(tmpdir(), 'meshca-bench-gui-'));
  dirs.push(dataDir);
  const log = createLogger({ name: `bench-gui-${n}`, level: 'error', pretty: false });
  const global = await startGlobal({ dataDir, apiAddress: '127.0.0.1', apiPort: 0, log, guiDir: GUI_DIR });
  started.push(global);
  const t = performance.now();
  await global.store.create({
    meta: { type: 'Mesh', name: 'default' },
    spec: { mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } },
  });
  const writes = seedWrites(n, Date.now());
  for (let i = 0; i < writes.length; i += 1000) await global.store.commit(writes.slice(i, i + 1000));
  const seedMs = performance.now() - t;
  await settled(global);
  const ca = await readFile(global.apiCaFile ?? '');
  return { global, dataDir, dataplanes: n, seedMs, ca, agent: new Agent({ keepAlive: true, maxSockets: 1, ca }) };
}

// ---------------------------------------------------------------- JSON, from this process

function get(s: Started, path: string): Promise<{ ms: number; status: number; body: Buffer }> {
  const url = new URL(path, s.global.apiUrl);
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const req = request(url, { agent: s.agent, ca: s.ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.once('error', reject);
    req.end();
  });
}

async function timeJson(s: Started, path: string, times: number): Promise<{ ms: number; bytes: number }> {
  const first = await get(s, path);
  if (first.status !== 200) throw new Error(`GET ${path}: ${first.status} ${first.body.toString().slice(0, 200)}`);
  const ms: number[] = [];
  for (let i = 0; i < times; i++) ms.push((await get(s, path)).ms);
  return { ms: round1(median(ms)), bytes: first.body.length };
}

/** The first request after a store change: the server brings its index up to date from the change feed. */
async function timeJsonAfterChange(s: Started, path: string, times: number): Promise<number> {
  const key = { type: 'DataplaneInsight' as const, mesh: 'default', name: `zone-0.dp-0` };
  const ms: number[] = [];
  for (let i = 0; i < times; i++) {
    // Global's own reaction to the last change (the mesh's MeshInsight recomputed) out of the way.
    await new Promise((r) => setTimeout(r, 400));
    const current = await s.global.store.get(key);
    if (current === undefined) throw new Error('the seeded DataplaneInsight zone-0.dp-0 is gone');
    // What a zone does every second or so in a live mesh: one insight rewritten.
    await s.global.store.update({ meta: { ...key, labels: current.meta.labels }, spec: current.spec }, current.meta.version);
    ms.push((await get(s, path)).ms);
  }
  await settled(s.global, 500);
  return round1(median(ms));
}

// ---------------------------------------------------------------- the browser

/** The seeded dataplanes of FILTER_ZONE: those whose index i has i % 4 === 2. */
const inFilterZone = (n: number): number => Math.ceil((n - 2) / ZONES);

// Runs in every document before the page's own script: records, on the page's clock, when the view
// first shows what `want` says, the frame after that, and the Zone select's change event.
const INSTRUMENT = `(() => {
  const g = { want: null, domAt: null, paintedAt: null, changeAt: null, wrongRows: 0 };
  window.__bench = g;
  const check = () => {
    const w = g.want;
    if (w === null || g.domAt !== null) return;
    const status = document.querySelector('p[role="status"].count');
    if (status === null || !status.textContent.includes(w.text)) return;
    const rows = document.querySelectorAll('table.dataplanes tbody tr');
    if (rows.length !== w.rows) return;
    g.domAt = performance.now();
    if (w.zone !== null) g.wrongRows = [...rows].filter((r) => r.cells[2] === undefined || r.cells[2].textContent !== w.zone).length;
    requestAnimationFrame(() => setTimeout(() => { g.paintedAt = performance.now(); }, 0));
  };
  g.check = check;
  new MutationObserver(check).observe(document, { subtree: true, childList: true, characterData: true });
  document.addEventListener('change', (e) => {
    if (e.target && e.target.id === 'f-zone' && g.changeAt === null) g.changeAt = performance.now();
  }, true);
})();`;

interface Marks {
  domAt: number | null;
  paintedAt: number | null;
  changeAt: number | null;
  wrongRows: number;
}

interface Want {
  text: string;
  rows: number;
  zone: string | null;
}

interface Try {
  firstPaintMs: number;
  firstPaintDomMs: number;
  filterMs: number;
  loadBytes: number;
  loadAndFilterBytes: number;
  byRequest: { url: string; status: number; bytes: number }[];
  pageRequestsAtLoad: number;
}

const thousands = (n: number): string => n.toLocaleString('en-US');

async function oneTry(browser: Browser, s: Started, problems: Set<string>): Promise<Try> {
  const n = s.dataplanes;
  const filtered = inFilterZone(n);
  let context: BrowserContext | undefined;
  try {
    context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    // Bytes per request: loadingFinished's total when it finished, what arrived so far otherwise.
    const requests = new Map<string, { url: string; status: number; received: number; headers: number; finished?: number }>();
    const cdp = await context.newCDPSession(page);
    cdp.on('Network.requestWillBeSent', (e) => requests.set(e.requestId, { url: e.request.url, status: 0, received: 0, headers: 0 }));
    cdp.on('Network.responseReceived', (e) => {
      const r = requests.get(e.requestId);
      if (r !== undefined) {
        r.status = e.response.status;
        r.headers = e.response.encodedDataLength;
      }
    });
    cdp.on('Network.dataReceived', (e) => {
      const r = requests.get(e.requestId);
      if (r !== undefined) r.received += e.encodedDataLength > 0 ? e.encodedDataLength : e.dataLength;
    });
    cdp.on('Network.loadingFinished', (e) => {
      const r = requests.get(e.requestId);
      if (r !== undefined) r.finished = e.encodedDataLength;
    });
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const bytes = (): number => [...requests.values()].reduce((sum, r) => sum + (r.finished ?? r.headers + r.received), 0);
    const pageRequests = (): number =>
      [...requests.values()].filter((r) => {
        const u = new URL(r.url);
        return u.pathname === '/gui/api/dataplanes' && u.searchParams.get('zone') === null;
      }).length;

    const want = (w: Want) =>
      page.evaluate(`(() => { Object.assign(window.__bench, { want: ${JSON.stringify(w)} }); window.__bench.check(); })()`);
    const marks = () =>
      page.evaluate<Marks>('(({ domAt, paintedAt, changeAt, wrongRows }) => ({ domAt, paintedAt, changeAt, wrongRows }))(window.__bench)');
    const waitPainted = async (what: string): Promise<Marks> => {
      try {
        // A function, not a string: the page's CSP (no 'unsafe-eval') refuses strings evaluated in it.
        await page.waitForFunction(() => (globalThis as unknown as { __bench: Marks }).__bench.paintedAt !== null, undefined, {
          timeout: 30_000,
          polling: 50,
        });
      } catch (err) {
        const status = await page
          .locator('p[role="status"]')
          .first()
          .textContent({ timeout: 1000 })
          .catch(() => null);
        throw new Error(`${what} with ${n} dataplanes never showed (status line: ${JSON.stringify(status)}): ${String(err)}`);
      }
      return marks();
    };

    await page.addInitScript({ content: INSTRUMENT });
    await page.addInitScript({
      content: `window.__bench.want = ${JSON.stringify({ text: `of ${thousands(n)} dataplanes`, rows: Math.min(PAGE_ROWS, n), zone: null } satisfies Want)};`,
    });
    await page.goto(`${s.global.apiUrl}/gui/#/dataplanes`, { waitUntil: 'commit' });
    const loaded = await waitPainted('the dataplanes view');
    // The view reloads once the events feed first answers; let that and the header's overview land.
    await page.waitForTimeout(500);
    const loadBytes = bytes();
    const pageRequestsAtLoad = pageRequests();

    await page.evaluate('Object.assign(window.__bench, { domAt: null, paintedAt: null, changeAt: null })');
    await want({ text: `of ${thousands(filtered)} dataplanes`, rows: Math.min(PAGE_ROWS, filtered), zone: FILTER_ZONE });
    await page.getByLabel('Zone').selectOption(FILTER_ZONE);
    const after = await waitPainted(`the view filtered to ${FILTER_ZONE}`);
    if (after.changeAt === null) throw new Error('the Zone select fired no change event');
    if (after.wrongRows > 0)
      problems.add(`${n} dataplanes: ${after.wrongRows} rows of another zone shown after filtering to ${FILTER_ZONE}`);
    await page.waitForTimeout(500);
    const loadAndFilterBytes = bytes();
    if (!page.url().includes(`zone=${FILTER_ZONE}`)) problems.add(`${n} dataplanes: the filter is not in the URL (${page.url()})`);

    return {
      firstPaintMs: round1(loaded.paintedAt ?? NaN),
      firstPaintDomMs: round1(loaded.domAt ?? NaN),
      filterMs: round1((after.paintedAt ?? NaN) - after.changeAt),
      loadBytes,
      loadAndFilterBytes,
      byRequest: [...requests.values()]
        .map((r) => ({
          url: new URL(r.url).pathname + new URL(r.url).search,
          status: r.status,
          bytes: r.finished ?? r.headers + r.received,
        }))
        .sort((a, b) => b.bytes - a.bytes),
      pageRequestsAtLoad,
    };
  } finally {
    await context?.close();
  }
}

// ---------------------------------------------------------------- the run

function ensureGuiBuilt(): void {
  if (existsSync(join(GUI_DIR, 'index.html'))) return;
  const build = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/build.mjs'), 'global'], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (build.status !== 0 || !existsSync(join(GUI_DIR, 'index.html')))
    throw new Error('node scripts/build.mjs global failed: no GUI to serve');
}

export async function runGuiBench(opts: GuiBenchOptions = {}): Promise<GuiBenchResult> {
  const n = opts.dataplanes ?? GUI_TARGETS.dataplanes;
  const floorN = opts.floor ?? 100;
  const tries = opts.tries ?? 5;
  ensureGuiBuilt();
  const dirs: string[] = [];
  const globals: GlobalControlPlane[] = [];
  let browser: Browser | undefined;
  const agents: Agent[] = [];
  try {
    const full = await startSeeded(n, dirs, globals);
    const floor = await startSeeded(floorN, dirs, globals);
    agents.push(full.agent, floor.agent);

    const json = async (s: Started) => {
      const path = `/gui/api/dataplanes?offset=0&size=${PAGE_ROWS}`;
      const afterChange = await timeJsonAfterChange(s, path, tries);
      const page = await timeJson(s, path, 20);
      const filtered = await timeJson(s, `/gui/api/dataplanes?zone=${FILTER_ZONE}&offset=0&size=${PAGE_ROWS}`, 20);
      const overview = await timeJson(s, '/gui/api/overview', 20);
      return {
        jsonMs: page.ms,
        jsonBytes: page.bytes,
        jsonAfterChangeMs: afterChange,
        jsonFilteredMs: filtered.ms,
        overviewMs: overview.ms,
      };
    };
    const fullJson = await json(full);
    const floorJson = await json(floor);

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    const problems = new Set<string>();
    // One unmeasured try each: the browser's first context, the servers' first pages.
    await oneTry(browser, floor, problems);
    await oneTry(browser, full, problems);
    const fullTries: Try[] = [];
    const floorTries: Try[] = [];
    for (let i = 0; i < tries; i++) {
      // Alternating which goes first, so neither always follows the other.
      if (i % 2 === 0) {
        floorTries.push(await oneTry(browser, floor, problems));
        fullTries.push(await oneTry(browser, full, problems));
      } else {
        fullTries.push(await oneTry(browser, full, problems));
        floorTries.push(await oneTry(browser, floor, problems));
      }
    }
    const figures = (s: Started, ts: Try[], j: Awaited<ReturnType<typeof json>>): GuiFigures => {
      const refetched = ts.filter((t) => t.pageRequestsAtLoad > 1).length;
      if (refetched > 0)
        problems.add(
          `${s.dataplanes} dataplanes: the page asked for its first page more than once while loading in ${refetched} of ${ts.length} tries (up to ${Math.max(...ts.map((t) => t.pageRequestsAtLoad))} requests)`,
        );
      return {
        dataplanes: s.dataplanes,
        seedMs: Math.round(s.seedMs),
        firstPaintMs: round1(median(ts.map((t) => t.firstPaintMs))),
        firstPaintDomMs: round1(median(ts.map((t) => t.firstPaintDomMs))),
        filterMs: round1(median(ts.map((t) => t.filterMs))),
        filteredTotal: inFilterZone(s.dataplanes),
        firstPaintTriesMs: ts.map((t) => t.firstPaintMs),
        filterTriesMs: ts.map((t) => t.filterMs),
        loadBytes: median(ts.map((t) => t.loadBytes)),
        loadAndFilterBytes: median(ts.map((t) => t.loadAndFilterBytes)),
        byRequest: ts.at(-1)?.byRequest ?? [],
        pageRequestsAtLoad: Math.max(...ts.map((t) => t.pageRequestsAtLoad)),
        ...j,
      };
    };
    return {
      chromium: browser.version(),
      tries,
      full: figures(full, fullTries, fullJson),
      floor: figures(floor, floorTries, floorJson),
      problems: [...problems],
    };
  } finally {
    await browser?.close().catch(() => {});
    for (const a of agents) a.destroy();
    for (const g of globals) await g.close().catch(() => {});
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  }
}

export function formatGuiBench(r: GuiBenchResult): string {
  const { full: f, floor: b } = r;
  const kb = (v: number) => `${(v / 1024).toFixed(1)} KB`;
  const x = (a: number, c: number) => `${(a / c).toFixed(2)}x`;
  return [
    `GUI dataplanes view, Chromium ${r.chromium}, median of ${r.tries} tries, each in a fresh context; ${b.dataplanes} dataplanes is the floor`,
    `                                        ${String(f.dataplanes).padStart(8)}  ${String(b.dataplanes).padStart(8)}`,
    `first paint (navigation -> first page)  ${`${f.firstPaintMs} ms`.padStart(8)}  ${`${b.firstPaintMs} ms`.padStart(8)}  ${x(f.firstPaintMs, b.firstPaintMs)}  (in the DOM: ${f.firstPaintDomMs} / ${b.firstPaintDomMs} ms)`,
    `filter by zone (change -> new page)     ${`${f.filterMs} ms`.padStart(8)}  ${`${b.filterMs} ms`.padStart(8)}  ${x(f.filterMs, b.filterMs)}  (pages of ${Math.min(PAGE_ROWS, f.filteredTotal)} / ${Math.min(PAGE_ROWS, b.filteredTotal)} rows)`,
    `  tries: first paint ${f.firstPaintTriesMs.join(', ')} / ${b.firstPaintTriesMs.join(', ')} ms; filter ${f.filterTriesMs.join(', ')} / ${b.filterTriesMs.join(', ')} ms`,
    `bytes downloaded: load                  ${kb(f.loadBytes).padStart(8)}  ${kb(b.loadBytes).padStart(8)}`,
    `bytes downloaded: load + one filter     ${kb(f.loadAndFilterBytes).padStart(8)}  ${kb(b.loadAndFilterBytes).padStart(8)}`,
    `  at ${f.dataplanes}: ${f.byRequest.map((q) => `${q.url} ${q.status} ${kb(q.bytes)}`).join('; ')}`,
    `GET /gui/api/dataplanes?size=50, warm   ${`${f.jsonMs} ms`.padStart(8)}  ${`${b.jsonMs} ms`.padStart(8)}  (${kb(f.jsonBytes)} / ${kb(b.jsonBytes)})`,
    `  first after a store change (updated)  ${`${f.jsonAfterChangeMs} ms`.padStart(8)}  ${`${b.jsonAfterChangeMs} ms`.padStart(8)}`,
    `  filtered by zone, warm                ${`${f.jsonFilteredMs} ms`.padStart(8)}  ${`${b.jsonFilteredMs} ms`.padStart(8)}`,
    `GET /gui/api/overview, warm             ${`${f.overviewMs} ms`.padStart(8)}  ${`${b.overviewMs} ms`.padStart(8)}`,
    `seeding the store                       ${`${f.seedMs} ms`.padStart(8)}  ${`${b.seedMs} ms`.padStart(8)}`,
    ...r.problems.map((p) => `problem: ${p}`),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const opts: GuiBenchOptions = {};
  const d = flag('dataplanes');
  const floor = flag('floor');
  const tries = flag('tries');
  if (d !== undefined) opts.dataplanes = d;
  if (floor !== undefined) opts.floor = floor;
  if (tries !== undefined) opts.tries = tries;
  const r = await runGuiBench(opts);
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(r)}\n` : `${formatGuiBench(r)}\n`);
  process.exit(0);
}

#!/usr/bin/env node
// Compiles each app, with the libs it uses and their npm dependencies, into self-contained ES
// modules in apps/<app>/dist: the binaries run them with plain node, no TypeScript loader, and a
// dist directory is all a host or an image needs next to node.
//
//   node scripts/build.mjs [app ...]     (no app: all of them; `npm run build` runs it per app through turbo)
//
// One bundle parses faster than hundreds of files found through node_modules, and libs are
// marked side-effect free, so meshctl does not load the CA clients or the logger it never uses.
// Code that only some meshes need (the AWS SDK for ACM PCA) is imported on first use and split
// into its own chunk.
import { build } from 'esbuild';
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Per app: output name -> entry. The issuance worker is bundled beside the control planes (libs/pki/src/pool.ts finds it there). */
const APPS = {
  ctl: { meshctl: 'apps/ctl/src/main.ts' },
  global: { 'meshca-global': 'apps/global/src/main.ts', 'pool-worker': 'libs/pki/src/pool-worker.ts' },
  zone: { 'meshca-zone': 'apps/zone/src/main.ts', 'pool-worker': 'libs/pki/src/pool-worker.ts' },
  'dp-agent': { 'meshca-dp': 'apps/dp-agent/src/main.ts', index: 'apps/dp-agent/src/index.ts' },
};

// CommonJS dependencies call require() and read __dirname; an ES module has neither.
const BANNER = [
  "import { createRequire as __meshcaRequire } from 'node:module';",
  "import { fileURLToPath as __meshcaPath } from 'node:url';",
  'const require = __meshcaRequire(import.meta.url);',
  'const __filename = __meshcaPath(import.meta.url);',
  "const __dirname = __meshcaPath(new URL('.', import.meta.url));",
].join(' ');

export async function buildApp(app) {
  const entries = APPS[app];
  if (!entries) throw new Error(`unknown app "${app}" (one of ${Object.keys(APPS).join(', ')})`);
  const dist = join(root, 'apps', app, 'dist');
  // Built aside and swapped in, so a binary started meanwhile finds a whole dist (old or new).
  const outdir = `${dist}.next-${process.pid}`;
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: Object.fromEntries(Object.entries(entries).map(([name, file]) => [name, join(root, file)])),
    outdir,
    outExtension: { '.js': '.mjs' },
    // Chunks beside the entries: code that finds files next to itself (the issuance worker) works from any of them.
    chunkNames: '[name]-[hash]',
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Whitespace and syntax only: names stay readable in stack traces.
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    banner: { js: BANNER },
    logLevel: 'warning',
  });
  // The API descriptions the control planes serve at /openapi.json (libs/http/src/openapi.ts).
  if (app === 'global' || app === 'zone')
    cpSync(join(root, 'libs/http/openapi'), join(outdir, 'openapi'), { recursive: true, filter: (f) => !f.endsWith('.ts') });
  // The GUI the control planes serve at /gui (libs/gui): a browser bundle and its page.
  if (app === 'global' || app === 'zone') await buildGui(join(outdir, 'gui'));
  const previous = `${dist}.prev-${process.pid}`;
  if (existsSync(dist)) renameSync(dist, previous);
  renameSync(outdir, dist);
  rmSync(previous, { recursive: true, force: true });
}

/** libs/gui/web: Preact, bundled for browsers, beside its HTML page and stylesheet. */
async function buildGui(outdir) {
  await build({
    absWorkingDir: root,
    entryPoints: { app: join(root, 'libs/gui/web/main.tsx') },
    outdir,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'app.css']) cpSync(join(root, 'libs/gui/web', file), join(outdir, file));
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  const apps = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(APPS);
  const started = Date.now();
  for (const app of apps) await buildApp(app);
  console.log(`built ${apps.join(', ')} in ${Date.now() - started} ms`);
}

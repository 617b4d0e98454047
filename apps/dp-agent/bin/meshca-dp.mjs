#!/usr/bin/env node
// Runs the compiled bundle that `npm run build` writes (scripts/build.mjs): no TypeScript loader at run time.
import { existsSync } from 'node:fs';
const bundle = new URL('../dist/meshca-dp.mjs', import.meta.url);
if (!existsSync(bundle)) {
  console.error('meshca-dp is not built: run `npm run build` in the repository (or `npm start`, which builds first)');
  process.exit(1);
}
await import(bundle.href);

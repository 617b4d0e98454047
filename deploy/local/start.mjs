#!/usr/bin/env node
// `npm start`: runs global on the in-memory store, configures meshctl for it, and prints how to use it.
// Later capabilities extend this to two zones and demo dataplanes.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const home = join(root, '.meshca');
const dataDir = join(home, 'global');
const apiPort = process.env.MESHCA_API_PORT ?? '5681';
mkdirSync(dataDir, { recursive: true });

const env = { ...process.env, MESHCTL_CONFIG: join(home, 'meshctl.yaml') };
const global = spawn(process.execPath, [join(root, 'apps/global/bin/meshca-global.mjs'), '--data-dir', dataDir, '--api-port', apiPort, '--api-address', '127.0.0.1'], { stdio: 'inherit', env });

const api = `https://127.0.0.1:${apiPort}`;
await waitForApi(api);
const meshctl = join(root, 'apps/ctl/bin/meshctl.mjs');
await run(process.execPath, [meshctl, 'config', 'control-planes', 'add', '--name', 'local', '--address', api, '--token-file', join(dataDir, 'admin-token'), '--ca-cert-file', join(dataDir, 'api-ca.pem'), '--overwrite'], env);
console.log(`
meshca global is running at ${api} (in-memory store; data in ${home}).
In another terminal, from ${root}:
  export MESHCTL_CONFIG=${env.MESHCTL_CONFIG}
  npx meshctl apply -f deploy/examples/mesh-builtin.yaml
  npx meshctl get meshes
Ctrl-C stops it.
`);

for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => global.kill(sig));
global.on('exit', (code) => process.exit(code ?? 0));

async function waitForApi(url) {
  for (let i = 0; i < 100; i++) {
    try {
      const { request } = await import('node:https');
      await new Promise((ok, fail) => request(`${url}/healthz`, { rejectUnauthorized: false }, (r) => (r.resume(), ok())).on('error', fail).end());
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`global did not answer at ${url}`);
}

function run(cmd, args, env) {
  return new Promise((ok, fail) => spawn(cmd, args, { stdio: 'inherit', env }).on('exit', (c) => (c === 0 ? ok() : fail(new Error(`${args[1]} exited ${c}`)))));
}

// schemathesis (PyPI, installed into .venv/schemathesis by scripts/ensure-schemathesis.sh) against a
// live meshca-global on the memory store: every operation of libs/http/openapi/global.json, with
// the admin token and without it, then libs/http/openapi/zone.json against a zone synced from it.
// Any 5xx, undocumented status, content type or header, or an answer that does not match its
// schema fails the test. Between the runs, requests schemathesis cannot make (bad percent-encoding,
// oversized or mis-typed bodies, duplicate keys, If-Match on nothing, no signing key) must get the
// refusal the document lists.
//
// The command line of each run is printed when it fails (the token as $(cat FILE)); to explore
// beyond the fixed seed: SCHEMATHESIS_SEED=random SCHEMATHESIS_MAX_EXAMPLES=100 npx vitest run test/e2e/schemathesis.test.ts
import { execFile, spawn } from 'node:child_process';
import { request } from 'node:https';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  apiRequest,
  eventually,
  REPO_ROOT,
  startGlobalProcess,
  startZoneProcess,
  syncCaFileOf,
  syncUrlOf,
  writeTokenFile,
  type GlobalProcess,
} from '@meshca/test';
import { openApiDocument } from '../../libs/http/src/openapi.js';

const VENV = process.env.SCHEMATHESIS_VENV ?? join(REPO_ROOT, '.venv/schemathesis');
const SCHEMATHESIS = join(VENV, 'bin/schemathesis');
const HOOKS = join(REPO_ROOT, 'test/e2e/schemathesis-hooks.py');
/** Examples per operation and phase: bounded so both runs take well under a minute on two cores. */
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '10';
/** Fixed by default so a failure in CI replays; SCHEMATHESIS_SEED=random (or a number) explores further. */
const SEED = process.env.SCHEMATHESIS_SEED ?? '20251130';
const seedArgs = (): string[] => (SEED === 'random' ? [] : ['--seed', SEED]);
const CHECKS = [
  'not_a_server_error',
  'status_code_conformance',
  'content_type_conformance',
  'response_headers_conformance',
  'response_schema_conformance',
  // After a successful DELETE, a GET of the same resource (by its link) answers 404.
  'use_after_free',
];

type Json = Record<string, unknown>;

/**
 * The document the fuzzer works from: the real one, with the CA backends that would reach outside
 * this machine left out. Tests talk to 127.0.0.1 only, and a generated vault or acmpca backend that
 * passed validation would make global dial its address (and a `file` DataSource would make it read
 * any path). builtin, provided and cert-manager backends stay; generated RSA CAs are 2048 bits, so
 * key generation does not eat the time budget.
 */
function fuzzDocument(): Json {
  const doc = structuredClone(openApiDocument('global')) as unknown as { components: { schemas: Record<string, Json> } };
  const s = doc.components.schemas;
  const backend = s.Backend as { properties: Record<string, Json> };
  backend.properties.type = { type: 'string', enum: ['builtin', 'provided', 'cert-manager'] };
  backend.properties.conf = {
    anyOf: ['BuiltinConf', 'ProvidedConf', 'CertManagerConf'].map((n) => ({ $ref: `#/components/schemas/${n}` })),
  };
  delete s.VaultConf;
  delete s.AcmpcaConf;
  delete (s.DataSource as { properties: Json }).properties.file;
  const caCert = (s.BuiltinConf as { properties: Json }).properties.caCert as { properties: Record<string, Json> };
  caCert.properties.RSAbits = { type: 'integer', enum: [2048] };
  return doc;
}

interface Run {
  code: number | null;
  output: string;
  seconds: number;
  command: string;
}

/** Runs schemathesis; `secrets` maps each secret in `args` to what the printed command shows instead. */
function runSchemathesis(args: string[], cwd: string, secrets: Record<string, string>): Promise<Run> {
  const started = Date.now();
  const shown = args.map((a) => Object.entries(secrets).reduce((text, [secret, instead]) => text.split(secret).join(instead), a));
  const command = `SCHEMATHESIS_HOOKS=${HOOKS} ${SCHEMATHESIS} ${shown.map((a) => (/[\s"]/.test(a) ? `"${a}"` : a)).join(' ')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(SCHEMATHESIS, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SCHEMATHESIS_HOOKS: HOOKS, NO_COLOR: '1', PYTHONDONTWRITEBYTECODE: '1' },
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, output, seconds: (Date.now() - started) / 1000, command });
    });
  });
}

/** The FAILURES section (and what follows) of a run's output, for the assertion message. */
function failures(run: Run): string {
  const at = run.output.indexOf('FAILURES');
  const errors = run.output.indexOf('ERRORS');
  const from = at >= 0 ? at : errors >= 0 ? errors : Math.max(0, run.output.length - 6000);
  return `${run.command}\n(exit ${run.code}, ${run.seconds.toFixed(1)} s)\n${run.output.slice(Math.max(0, from - 200), from + 20_000)}`;
}

interface Probe {
  what: string;
  method: string;
  path: string;
  body?: string;
  /** Send only this many bytes of the body (its full length is declared) and wait for the answer. */
  sendOnly?: number;
  headers?: Record<string, string>;
  token?: boolean;
  status: number;
}

/**
 * One raw HTTPS request. The answer counts as soon as it arrives: a server that refuses a body
 * without reading it may close the connection while the body is still being written.
 */
async function send(cp: GlobalProcess, token: string, probe: Probe): Promise<{ status: number; text: string; json: unknown }> {
  const ca = await readFile(cp.caFile, 'utf8');
  const body = probe.body === undefined ? undefined : Buffer.from(probe.body);
  const headers: Record<string, string> = {
    ...(body === undefined ? {} : { 'content-type': 'application/json', 'content-length': String(body.length) }),
    ...(probe.token === false ? {} : { authorization: `Bearer ${token}` }),
    ...probe.headers,
  };
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = request(new URL(probe.path, cp.apiUrl), { method: probe.method, headers, ca, agent: false, timeout: 15_000 }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, text, json });
        req.destroy();
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${probe.method} ${probe.path}: no answer within 15 s`)));
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (body === undefined) req.end();
    else if (probe.sendOnly !== undefined) req.write(body.subarray(0, probe.sendOnly));
    else req.end(body);
  });
}

/** The statuses the document lists for the operation whose path template matches `path`. */
function documentedStatuses(method: string, path: string): string[] {
  const paths = openApiDocument('global').paths as Record<string, Record<string, { responses?: Record<string, unknown> }>>;
  const bare = path.split('?')[0]!;
  const template = Object.keys(paths).find((t) => new RegExp(`^${t.replace(/\{\w+\}/g, '[^/]+')}$`).test(bare));
  return Object.keys(paths[template ?? '']?.[method.toLowerCase()]?.responses ?? {});
}

describe('schemathesis against a live global', () => {
  let global: GlobalProcess;
  let work: string;
  let spec: string;
  let token: string;
  // The GUI's events feed is a stream that does not end: a client reads it, it never "answers".
  const excluded: string[] = ['/gui/api/events'];

  beforeAll(async () => {
    // Quick when it is there already (npm test's pretest runs it too).
    await promisify(execFile)('bash', [join(REPO_ROOT, 'scripts/ensure-schemathesis.sh')], {
      env: { ...process.env, SCHEMATHESIS_VENV: VENV },
      timeout: 300_000,
    });
    work = await mkdtemp(join(tmpdir(), 'meshca-schemathesis-'));
    spec = join(work, 'global.json');
    await writeFile(spec, JSON.stringify(fuzzDocument()));
    global = await startGlobalProcess({ env: { MESHCA_LOG_LEVEL: 'info' } });
    token = (await readFile(global.tokenFile, 'utf8')).trim();
    // Mounted by the API hardening work (issue 14); until it is, it is left out of the run.
    if ((await apiRequest(global, 'GET', '/openapi.json')).status === 404) excluded.push('/openapi.json');
  }, 300_000);

  afterAll(async () => {
    await global?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const common = (): string[] => [
    'run',
    spec,
    '--url',
    global.apiUrl,
    '--tls-verify',
    global.caFile,
    '--checks',
    CHECKS.join(','),
    '--max-examples',
    MAX_EXAMPLES,
    ...seedArgs(),
    // One worker: generation is CPU-bound Python (no gain from threads on two cores), and
    // CPython 3.11's ast.parse from several threads can fail inside hypothesis.
    '--workers',
    '1',
    '--request-timeout',
    '10',
    '--generation-database',
    'none',
    '--no-color',
    '--output-truncate',
    'false',
    ...excluded.flatMap((p) => ['--exclude-path', p]),
  ];

  it('finds no server error and no schema violation with the admin token (every operation, stateful links)', async () => {
    const run = await runSchemathesis([...common(), '--header', `Authorization: Bearer ${token}`], work, {
      [token]: `$(cat ${global.tokenFile})`,
    });
    console.log(
      `schemathesis with the token: ${run.seconds.toFixed(1)} s, exit ${run.code}${excluded.length ? `; left out: ${excluded.join(', ')}` : ''}\n${run.command}`,
    );
    expect(run.output, failures(run)).toMatch(/Operations:\s+\d+ selected/);
    expect(run.code, failures(run)).toBe(0);
    // The process survived and still answers.
    expect((await apiRequest(global, 'GET', '/readyz')).status).toBe(200);
  }, 180_000);

  // What schemathesis cannot send: it percent-encodes what it generates and keeps bodies small
  // and well-formed. Each answer must be the refusal the document lists for the operation.
  const big = (bytes: number): string => JSON.stringify({ type: 'Mesh', name: 'big', meshServices: { pad: 'x'.repeat(bytes) } });
  const probes: Probe[] = [
    { what: 'a path that is not valid percent-encoding', method: 'GET', path: '/meshes/%ff', status: 400 },
    { what: 'the same in a mesh-scoped list', method: 'GET', path: '/meshes/%ff/secrets', status: 400 },
    { what: 'the same in a write', method: 'DELETE', path: '/meshes/%ff', status: 400 },
    { what: 'a Mesh over 256 KiB', method: 'PUT', path: '/meshes/big', body: big(300 * 1024), status: 413 },
    { what: 'a Mesh over 4 MB', method: 'PUT', path: '/meshes/big', body: big(4_500_000), status: 413 },
    // Only the first 64 KiB of the 4.5 MB are sent: the answer must come without the rest.
    {
      what: 'a large body without the token, before it is read',
      method: 'PUT',
      path: '/meshes/big',
      body: big(4_500_000),
      sendOnly: 64 * 1024,
      token: false,
      status: 401,
    },
    {
      what: 'a GlobalSecret over 1 MiB',
      method: 'PUT',
      path: '/global-secrets/big',
      body: JSON.stringify({ type: 'GlobalSecret', name: 'big', data: 'QUFB'.repeat(300_000) }),
      status: 413,
    },
    {
      what: 'a token request over 64 KiB',
      method: 'POST',
      path: '/tokens/zone',
      body: JSON.stringify({ zone: 'east', pad: 'x'.repeat(70 * 1024) }),
      status: 413,
    },
    {
      what: 'a body that is not JSON by its Content-Type',
      method: 'PUT',
      path: '/meshes/m',
      body: '{"type":"Mesh","name":"m"}',
      headers: { 'content-type': 'text/plain' },
      status: 415,
    },
    {
      what: 'a charset other than UTF-8',
      method: 'PUT',
      path: '/meshes/m',
      body: '{"type":"Mesh","name":"m"}',
      headers: { 'content-type': 'application/json; charset=latin1' },
      status: 415,
    },
    {
      what: 'an unknown charset',
      method: 'PUT',
      path: '/meshes/m',
      body: '{"type":"Mesh","name":"m"}',
      headers: { 'content-type': 'application/json; charset=x-nope' },
      status: 415,
    },
    {
      what: 'a Content-Encoding',
      method: 'PUT',
      path: '/meshes/m',
      body: '{"type":"Mesh","name":"m"}',
      headers: { 'content-encoding': 'gzip' },
      status: 415,
    },
    {
      what: 'a duplicate JSON key',
      method: 'PUT',
      path: '/meshes/m',
      body: '{"type":"Mesh","name":"m","mtls":null,"mtls":{}}',
      status: 400,
    },
    {
      what: 'a body nested deeper than any resource',
      method: 'PUT',
      path: '/meshes/m',
      body: `{"type":"Mesh","name":"m","x":${'['.repeat(200)}${']'.repeat(200)}}`,
      status: 400,
    },
    {
      what: 'If-Match on a Mesh that does not exist',
      method: 'PUT',
      path: '/meshes/nothere',
      body: '{"type":"Mesh","name":"nothere"}',
      headers: { 'if-match': '3' },
      status: 412,
    },
    {
      what: 'a write of a zone-owned type',
      method: 'PUT',
      path: '/meshes/default/dataplanes/dp',
      body: JSON.stringify({
        type: 'Dataplane',
        name: 'dp',
        mesh: 'default',
        networking: { address: '10.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': 'a' } }] },
      }),
      status: 405,
    },
  ];

  it.each(probes)('refuses $what with $status, as documented', async (probe) => {
    const reply = await send(global, token, probe);
    const where = `${probe.method} ${probe.path} (${probe.what}) answered ${reply.status}: ${reply.text.slice(0, 300)}`;
    expect(reply.status, where).toBe(probe.status);
    expect(documentedStatuses(probe.method, probe.path), `${probe.status} is documented for ${probe.method} ${probe.path}`).toContain(
      String(probe.status),
    );
    expect(reply.json, where).toMatchObject({
      status: probe.status,
      title: expect.any(String),
      detail: expect.any(String),
      causes: expect.any(Array),
    });
    expect(Object.keys(reply.json as object).sort(), where).toEqual(['causes', 'detail', 'status', 'title']);
  });

  // Found by schemathesis following the links list keys -> revoke the oldest -> issue a token, on a
  // fresh keyring (a random seed): issuing with every key revoked answered 500.
  it('refuses to issue tokens while every signing key is revoked (409), and issues again after a rotation', async () => {
    const keys = (await apiRequest(global, 'GET', '/tokens/signing-keys')).json as { items: { kid: string; revoked: boolean }[] };
    try {
      for (const k of keys.items.filter((key) => !key.revoked)) {
        expect((await apiRequest(global, 'POST', '/tokens/signing-keys/revoke', { kid: k.kid })).status).toBe(200);
      }
      for (const [path, body] of [
        ['/tokens/zone', { zone: 'east' }],
        ['/tokens/dataplane', { mesh: 'default', name: 'web' }],
      ] as const) {
        const reply = await apiRequest(global, 'POST', path, body);
        expect(reply.status, `POST ${path} with every signing key revoked: ${reply.text.slice(0, 300)}`).toBe(409);
        expect(documentedStatuses('POST', path)).toContain('409');
        expect(Object.keys(reply.json as object).sort()).toEqual(['causes', 'detail', 'status', 'title']);
      }
    } finally {
      expect((await apiRequest(global, 'POST', '/tokens/signing-keys/rotate')).status).toBe(201);
    }
    expect((await apiRequest(global, 'POST', '/tokens/zone', { zone: 'east' })).status).toBe(200);
  });

  it('finds no server error and no schema violation without the token', async () => {
    const run = await runSchemathesis(common(), work, {});
    console.log(`schemathesis without a token: ${run.seconds.toFixed(1)} s, exit ${run.code}\n${run.command}`);
    expect(run.code, failures(run)).toBe(0);
    expect((await apiRequest(global, 'GET', '/readyz')).status).toBe(200);
  }, 180_000);

  // The zone's document, against a zone that synced what the runs above left on global.
  it('finds no server error and no schema violation on a zone (with its token)', async () => {
    const zoneToken = await apiRequest(global, 'POST', '/tokens/zone', { zone: 'fuzz' });
    expect(zoneToken.status, zoneToken.text).toBe(200);
    const zone = await startZoneProcess({
      zone: 'fuzz',
      global: syncUrlOf(global),
      globalCaFile: syncCaFileOf(global),
      zoneTokenFile: await writeTokenFile(zoneToken.text, work),
      env: { MESHCA_LOG_LEVEL: 'info' },
    });
    try {
      const cp = { apiUrl: zone.apiUrl, caFile: zone.caFile, tokenFile: zone.adminTokenFile };
      await eventually(async () => {
        expect(((await apiRequest(cp, 'GET', '/status')).json as { kds: { connected: boolean; lastRevision: number } }).kds).toMatchObject({
          connected: true,
        });
        expect(((await apiRequest(cp, 'GET', '/meshes')).json as { total: number }).total).toBeGreaterThan(0);
      });
      const zoneSpec = join(work, 'zone.json');
      const zoneAdmin = (await readFile(zone.adminTokenFile, 'utf8')).trim();
      await writeFile(zoneSpec, JSON.stringify(openApiDocument('zone')));
      const notMounted = [
        ...((await apiRequest(cp, 'GET', '/openapi.json')).status === 404 ? ['--exclude-path', '/openapi.json'] : []),
        '--exclude-path',
        '/gui/api/events', // a stream that does not end
      ];
      const run = await runSchemathesis(
        [
          'run',
          zoneSpec,
          '--url',
          zone.apiUrl,
          '--tls-verify',
          zone.caFile,
          '--checks',
          CHECKS.join(','),
          '--max-examples',
          '5',
          ...seedArgs(),
          '--workers',
          '1',
          '--request-timeout',
          '10',
          '--generation-database',
          'none',
          '--no-color',
          '--output-truncate',
          'false',
          ...notMounted,
          '--header',
          `Authorization: Bearer ${zoneAdmin}`,
        ],
        work,
        { [zoneAdmin]: `$(cat ${zone.adminTokenFile})` },
      );
      console.log(`schemathesis on a zone: ${run.seconds.toFixed(1)} s, exit ${run.code}\n${run.command}`);
      expect(run.output, failures(run)).toMatch(/Operations:\s+\d+ selected/);
      expect(run.code, failures(run)).toBe(0);
      const errors = zone.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
      expect(errors.map((l) => `${String(l.msg)}: ${String(l.method ?? '')} ${String(l.path ?? '')}`)).toEqual([]);
    } finally {
      await zone.stop();
    }
  }, 180_000);

  it('logged no request failure at error level (a 5xx) in any of the runs above', () => {
    const errors = global.logs.filter((l) => typeof l.level === 'number' && l.level >= 50);
    expect(errors.map((l) => `${String(l.msg)}: ${String(l.method ?? '')} ${String(l.path ?? '')}`)).toEqual([]);
  });
});

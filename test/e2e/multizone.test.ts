// End to end: a real meshca-global and real meshca-zone processes on loopback, talking KDS over
// TLS, driven through their HTTP APIs and the real meshctl binary.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiCallError, createClient, type ApiClient } from '@meshca/ctl';
import {
  configureMeshctl,
  eventually,
  FAST_GLOBAL_ARGS,
  runBin,
  startGlobalProcess,
  startZoneProcess,
  syncCaFileOf,
  syncUrlOf,
  writeTokenFile,
  type GlobalProcess,
  type ZoneProcess,
} from '../src/index.js';

let global: GlobalProcess;
let onGlobal: ApiClient;
const zones: Record<string, { proc: ZoneProcess; api: ApiClient }> = {};
const extra: ZoneProcess[] = [];
let ctlEnv: Record<string, string>;
const meshctl = (...args: string[]) => runBin('meshctl', args, { env: ctlEnv });

const token = (path: string, body: unknown): Promise<string> => onGlobal.callText('POST', path, body);

async function startZone(zone: string, tokenFile: string): Promise<ZoneProcess> {
  return startZoneProcess({ zone, global: syncUrlOf(global), globalCaFile: syncCaFileOf(global), zoneTokenFile: tokenFile });
}

interface ZoneStatus {
  kds: { connected: boolean; lastError?: string };
}
const zoneStatus = async (proc: ZoneProcess) =>
  (await (await createClient({ name: 'z', address: proc.apiUrl, caCertFile: proc.caFile })).call<ZoneStatus>('GET', '/status')).body;

const status = (err: unknown) => (err instanceof ApiCallError ? err.status : err);

beforeAll(async () => {
  global = await startGlobalProcess({ extraArgs: [...FAST_GLOBAL_ARGS, '--sync-port', '0'] });
  onGlobal = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.tokenFile, caCertFile: global.caFile });
  ctlEnv = await configureMeshctl(global);
  // One zone token through meshctl, as an operator would; the other through the API.
  const generated = await meshctl('generate', 'zone-token', '--zone', 'east', '--valid-for', '1h');
  expect(generated.code, generated.stderr).toBe(0);
  const eastToken = await writeTokenFile(generated.stdout.trim());
  const westToken = await writeTokenFile(await token('/tokens/zone', { zone: 'west', validFor: '1h' }));
  const [east, west] = await Promise.all([startZone('east', eastToken), startZone('west', westToken)]);
  for (const proc of [east, west]) {
    zones[proc.zone] = {
      proc,
      api: await createClient({ name: proc.zone, address: proc.apiUrl, tokenFile: proc.adminTokenFile, caCertFile: proc.caFile }),
    };
  }
}, 60_000);

afterAll(async () => {
  const codes = await Promise.all([...Object.values(zones).map((z) => z.proc.stop()), ...extra.map((p) => p.stop())]);
  expect(codes.slice(0, 2)).toEqual([0, 0]);
  expect(await global.stop()).toBe(0);
});

const both = () => Object.values(zones);

describe('global with two zones', () => {
  it('syncs a Mesh applied on global to both zones, then its update and its delete', async () => {
    await onGlobal.call('PUT', '/meshes/payments', {
      type: 'Mesh',
      name: 'payments',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
    });
    for (const z of both()) {
      await eventually(async () => {
        const { body } = await z.api.call<{ mtls: { enabledBackend: string } }>('GET', '/meshes/payments');
        expect(body.mtls.enabledBackend).toBe('ca-1');
      });
    }
    await onGlobal.call('PUT', '/meshes/payments', {
      type: 'Mesh',
      name: 'payments',
      mtls: {
        enabledBackend: 'ca-2',
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-2', type: 'builtin' },
        ],
      },
    });
    for (const z of both()) {
      await eventually(async () => {
        const { body } = await z.api.call<{ mtls: { enabledBackend: string } }>('GET', '/meshes/payments');
        expect(body.mtls.enabledBackend).toBe('ca-2');
      });
    }
    // The builtin CAs global generated travel as Secrets, so every zone signs with the same CA.
    const onEast = await zones.east!.api.call<{ items: { name: string }[] }>('GET', '/meshes/payments/secrets');
    expect(onEast.body.items.map((s) => s.name)).toEqual(
      expect.arrayContaining(['payments.ca-builtin-cert-ca-1', 'payments.ca-builtin-cert-ca-2']),
    );

    await onGlobal.call('DELETE', '/meshes/payments');
    for (const z of both()) {
      await eventually(async () => expect(status(await z.api.call('GET', '/meshes/payments').catch((e: unknown) => e))).toBe(404));
      // Global deletes a Mesh's secrets in writes of their own, so they may follow a moment later.
      await eventually(async () => expect((await z.api.call<{ total: number }>('GET', '/meshes/payments/secrets')).body.total).toBe(0));
    }
  });

  it('syncs Secrets and GlobalSecrets, and their changes', async () => {
    await onGlobal.call('PUT', '/meshes/default', { type: 'Mesh', name: 'default' });
    await onGlobal.call('PUT', '/meshes/default/secrets/db-password', {
      type: 'Secret',
      name: 'db-password',
      mesh: 'default',
      data: Buffer.from('one').toString('base64'),
    });
    await onGlobal.call('PUT', '/global-secrets/shared', {
      type: 'GlobalSecret',
      name: 'shared',
      data: Buffer.from('g').toString('base64'),
    });
    await onGlobal.call('PUT', '/meshes/default/secrets/db-password', {
      type: 'Secret',
      name: 'db-password',
      mesh: 'default',
      data: Buffer.from('two').toString('base64'),
    });
    for (const z of both()) {
      await eventually(async () => {
        const secret = await z.api.call<{ data: string }>('GET', '/meshes/default/secrets/db-password');
        expect(Buffer.from(secret.body.data, 'base64').toString()).toBe('two');
        const shared = await z.api.call<{ data: string }>('GET', '/global-secrets/shared');
        expect(Buffer.from(shared.body.data, 'base64').toString()).toBe('g');
      });
    }
  });

  it('refuses writes on a zone, pointing at the global control plane', async () => {
    const east = zones.east!;
    const err = await east.api.call('PUT', '/meshes/default', { type: 'Mesh', name: 'default' }).catch((e: unknown) => e);
    expect(status(err)).toBe(405);
    expect((err as ApiCallError).message).toContain('apply this on the global control plane');
    const dir = await mkdtemp(join(tmpdir(), 'zone-apply-'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'mesh.yaml'), 'type: Mesh\nname: sneaky\n');
    const r = await meshctl(
      '--address',
      east.proc.apiUrl,
      '--token-file',
      east.proc.adminTokenFile,
      '--ca-cert-file',
      east.proc.caFile,
      'apply',
      '-f',
      join(dir, 'mesh.yaml'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('apply this on the global control plane');
    expect(status(await onGlobal.call('GET', '/meshes/sneaky').catch((e: unknown) => e))).toBe(404);
  });

  it('lists both zones online on global, with their insights, in meshctl', async () => {
    await eventually(async () => {
      const { body } = await onGlobal.call<{ items: { name: string; connected: boolean; store: string }[] }>('GET', '/zone-insights');
      expect(body.items.map((i) => [i.name, i.connected, i.store])).toEqual([
        ['east', true, 'memory'],
        ['west', true, 'memory'],
      ]);
    });
    const table = await meshctl('get', 'zones');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/NAME\s+STATUS\s+LAST SEEN\s+ACKED REVISION\s+LEADER\s+NACKS/);
    expect(table.stdout).toMatch(/east\s+Online/);
    expect(table.stdout).toMatch(/west\s+Online/);
  });

  it("refuses a second zone under a name already connected, and says so in the newcomer's status and log", async () => {
    const tokenFile = await writeTokenFile(await token('/tokens/zone', { zone: 'east', validFor: '1h' }));
    const dup = await startZone('east', tokenFile);
    extra.push(dup);
    await eventually(async () => expect((await zoneStatus(dup)).kds.lastError).toContain('already connected'));
    // Log lines arrive on their own pipe: wait for them rather than race the HTTP answer.
    await eventually(async () => expect(dup.logs.some((l) => String(l.reason ?? '').includes('already connected'))).toBe(true));
    await eventually(async () =>
      expect(global.logs.some((l) => String(l.msg).includes('refused') && String(l.msg).includes('already connected'))).toBe(true),
    );
    const { body } = await onGlobal.call<{ status: { online: boolean } }>('GET', '/zones/east');
    expect(body.status.online).toBe(true);
    await dup.stop();
  });
});

describe('zone tokens', () => {
  it('meshctl generates dataplane tokens, rotates and lists signing keys, and inspects zones', async () => {
    const dp = await meshctl(
      'generate',
      'dataplane-token',
      '-m',
      'default',
      '--name',
      'web-1',
      '--tag',
      'kuma.io/service=web',
      '--valid-for',
      '1h',
    );
    expect(dp.code, dp.stderr).toBe(0);
    const claims = JSON.parse(Buffer.from(dp.stdout.trim().split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(claims).toMatchObject({ kind: 'dataplane', mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': 'web' } });
    const rotated = await meshctl('rotate', 'signing-key');
    expect(rotated.code, rotated.stderr).toBe(0);
    const keys = await meshctl('signing-keys');
    expect(keys.stdout).toMatch(/signing/);
    expect(keys.stdout).toMatch(/verifying/);
    const inspect = await meshctl('inspect', 'zones');
    expect(inspect.code, inspect.stderr).toBe(0);
    expect(inspect.stdout).toMatch(/east\s+Online/);
    const twice = await meshctl('generate', 'dataplane-token', '-m', 'default', '--name', 'x', '--tag', 'a=1', '--tag', 'a=2');
    expect(twice.code).toBe(1);
    expect(twice.stderr).toContain('--tag a is given twice');
  });

  it('refuses missing, forged, expired, revoked and other-zone tokens, with the reason in the zone status and log', async () => {
    const valid = await token('/tokens/zone', { zone: 'north', validFor: '1h' });
    const revoked = await token('/tokens/zone', { zone: 'north', validFor: '1h' });
    await onGlobal.call('POST', '/tokens/revoke', { token: revoked });
    const expired = await token('/tokens/zone', { zone: 'north', validFor: '1s' });
    const parts = valid.split('.');
    const forged = [
      parts[0],
      Buffer.from(
        JSON.stringify({ ...JSON.parse(Buffer.from(parts[1]!, 'base64url').toString()), zone: 'north', exp: 9999999999 }),
      ).toString('base64url'),
      parts[2],
    ].join('.');
    const westToken = await token('/tokens/zone', { zone: 'west', validFor: '1h' });
    await new Promise((r) => setTimeout(r, 1200)); // let the 1s token expire

    const cases: [string, string, RegExp][] = [
      ['missing', '', /no token was presented/],
      ['forged', forged, /forged/],
      ['expired', expired, /expired at/],
      ['revoked', revoked, /was revoked/],
      ['other zone', westToken, /token is for zone "west", not "north"/],
    ];
    const procs = await Promise.all(cases.map(async ([, t]) => startZone('north', await writeTokenFile(t))));
    extra.push(...procs);
    await Promise.all(
      procs.map(async (proc, i) => {
        const [what, , reason] = cases[i]!;
        const s = await eventually(async () => {
          const st = await zoneStatus(proc);
          expect(st.kds.lastError, what).toMatch(reason);
          return st;
        });
        expect(s.kds.connected, what).toBe(false);
        await eventually(async () =>
          expect(
            proc.logs.some((l) => reason.test(String(l.reason ?? ''))),
            `${what} in the zone log`,
          ).toBe(true),
        );
      }),
    );
    expect(JSON.stringify(global.logs)).not.toContain(valid);
    const { body } = await onGlobal.call<{ items: { name: string }[] }>('GET', '/zones');
    expect(body.items.map((z) => z.name)).not.toContain('north');
    await Promise.all(procs.map((p) => p.stop()));
  });
});

// /metrics on global, a zone and meshca-dp, checked by Prometheus's own promtool (Debian's
// `prometheus` package) and read for the series an operator alerts on.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort, metricsUrlOf, REPO_ROOT, startMeshEnv, type MeshEnv } from '../src/index.js';

let env: MeshEnv;
let dir: string;
let dpMetrics: string;
let stopDp: () => void = () => {};

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.text();
}

/** promtool's lint of an exposition: naming conventions, help texts, types. */
async function promtoolCheck(text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('promtool', ['check', 'metrics']);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`promtool check metrics exited ${code}:\n${out}`))));
    child.stdin.end(text);
  });
}

/** The value of the first sample of `series` (name with its labels, as exposed). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

beforeAll(async () => {
  env = await startMeshEnv({ zones: ['east', 'west'] });
  await env.admin.call('PUT', '/meshes/default', {
    type: 'Mesh',
    name: 'default',
    mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
  });
  const svc = await env.startService('east', { name: 'web-1', service: 'web' });
  await svc.handle.ready(20_000);
  dir = await mkdtemp(join(tmpdir(), 'meshca-metrics-'));
  await writeFile(join(dir, 'token'), await env.dataplaneToken({ mesh: 'default', name: 'api-1', tags: { 'kuma.io/service': 'api' } }));
  const port = await freePort();
  const zone = env.zones.east!;
  const dp = spawn(process.execPath, [
    join(REPO_ROOT, 'apps/dp-agent/bin/meshca-dp.mjs'),
    ...['--zone', zone.apiUrl, '--ca-file', zone.caFile, '--token-file', join(dir, 'token'), '--dir', dir],
    ...[
      '--name',
      'api-1',
      '--address',
      '127.0.0.1',
      '--inbound',
      'port=9000,kuma.io/service=api',
      '--metrics-address',
      `127.0.0.1:${port}`,
    ],
  ]);
  stopDp = () => dp.kill('SIGKILL');
  dpMetrics = `http://127.0.0.1:${port}/metrics`;
  await eventually(() => readFile(join(dir, 'cert.pem'), 'utf8'), 20_000);
}, 120_000);

afterAll(async () => {
  stopDp();
  await env?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('Prometheus metrics', () => {
  it('global: promtool accepts them; zones online, per zone', async () => {
    await eventually(async () => {
      const text = await scrape(metricsUrlOf(env.global));
      expect(sample(text, 'kds_zones_online')).toBe(2);
      expect(sample(text, 'kds_zone_online{zone="east"}')).toBe(1);
      expect(sample(text, 'kds_zone_nacks{zone="west"}')).toBe(0);
      expect(sample(text, 'kds_zone_connects_total{zone="east"}')).toBe(1);
      expect(sample(text, 'kds_zone_revision_acked{zone="east"}')).toBe(sample(text, 'kds_zone_revision_sent{zone="east"}'));
      expect(sample(text, 'kds_zone_sent_bytes_total{zone="east"}')).toBeGreaterThan(0);
      expect(sample(text, 'kds_zone_received_bytes_total{zone="east"}')).toBeGreaterThan(0);
      expect(text).toContain('process_resident_memory_bytes');
      await promtoolCheck(text);
    });
  });

  it('zone: promtool accepts them; issuances, connected dataplanes, the earliest certificate expiry, the stream', async () => {
    await eventually(async () => {
      const text = await scrape(metricsUrlOf(env.zones.east!));
      const ca1 = '{mesh="default",backend="ca-1",type="builtin"}';
      expect(sample(text, `cert_generation_total${ca1}`)).toBeGreaterThanOrEqual(2);
      expect(text).not.toMatch(/^cert_generation_failure_total\{/m); // none failed
      // Each issuance timed at the CA, and the root chain read when the backend was opened.
      expect(sample(text, `ca_manager_get_cert_seconds_count${ca1}`)).toBe(sample(text, `cert_generation_total${ca1}`));
      expect(sample(text, `ca_manager_get_root_cert_chain_seconds_count${ca1}`)).toBeGreaterThanOrEqual(1);
      expect(sample(text, `meshca_issuances_in_flight${ca1}`)).toBeUndefined(); // shown only while a call is in flight
      expect(sample(text, 'meshca_dataplane_cert_time_to_expiry_seconds_count{mesh="default"}')).toBe(2);
      expect(sample(text, 'meshca_dataplane_cert_earliest_lifetime_seconds{mesh="default"}')).toBeCloseTo(86400, -2);
      expect(sample(text, 'meshca_dataplane_renewals_due{mesh="default"}')).toBe(0);
      expect(sample(text, 'meshca_dataplane_renewals_overdue{mesh="default"}')).toBe(0);
      expect(sample(text, 'kds_stream_connects_total')).toBe(1);
      expect(sample(text, 'kds_received_bytes_total')).toBeGreaterThan(0);
      expect(sample(text, 'meshca_dataplanes_connected')).toBe(2);
      const earliest = sample(text, 'meshca_dataplane_cert_earliest_expiration_timestamp_seconds{mesh="default"}');
      expect(earliest).toBeGreaterThan(Date.now() / 1000 + 3600);
      expect(sample(text, 'kds_stream_connected')).toBe(1);
      // The builtin CA is made for ten years.
      const ca = sample(text, 'meshca_ca_cert_expiration_timestamp_seconds{mesh="default",backend="ca-1",type="builtin"}');
      expect(ca).toBeGreaterThan(Date.now() / 1000 + 9 * 365 * 86400);
      expect(sample(text, 'meshca_ca_backend_available{mesh="default",backend="ca-1",type="builtin"}')).toBe(1);
      expect(text).not.toMatch(/web-1|api-1/); // dataplane names stay out of labels
      await promtoolCheck(text);
    });
  });

  it("meshca-dp: promtool accepts them; its certificate's notAfter and rotations", async () => {
    const text = await scrape(dpMetrics);
    const cert = await readFile(join(dir, 'cert.pem'), 'utf8');
    const { X509Certificate } = await import('node:crypto');
    expect(sample(text, 'meshca_dp_cert_expiration_timestamp_seconds')).toBe(Date.parse(new X509Certificate(cert).validTo) / 1000);
    expect(sample(text, 'meshca_dp_cert_rotations_total')).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'meshca_dp_zone_connected')).toBe(1);
    await promtoolCheck(text);
  });

  it('meshctl inspect dataplanes: every dataplane of every zone with its service, backend, serial, notAfter and time left', async () => {
    await eventually(async () => {
      const r = await env.meshctl('inspect', 'dataplanes', '--mesh', 'default');
      expect(r.code, r.stderr).toBe(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[0]?.split(/\s{2,}/)).toEqual([
        'MESH',
        'NAME',
        'ZONE',
        'CONNECTED',
        'SERVICE',
        'BACKEND',
        'SERIAL',
        'NOT AFTER',
        'TIME LEFT',
        'LAST ERROR',
      ]);
      const web = lines.find((l) => l.includes('east.web-1'))?.split(/\s{2,}/);
      expect(web?.slice(0, 6)).toEqual(['default', 'east.web-1', 'east', 'yes', 'web', 'ca-1']);
      expect(web?.[8]).toMatch(/^23h5\dm$/);
      expect(lines.some((l) => l.includes('east.api-1'))).toBe(true);
    });
  });

  it('serves nothing else on the metrics port, and only on 127.0.0.1 by default', async () => {
    const url = new URL(metricsUrlOf(env.global));
    expect(url.hostname).toBe('127.0.0.1');
    expect((await fetch(new URL('/status', url))).status).toBe(404);
    const { stdout } = await promisify(execFile)(process.execPath, [join(REPO_ROOT, 'apps/global/bin/meshca-global.mjs'), '--help']);
    expect(stdout).toMatch(/--metrics-address <host:port>[\s\S]*127\.0\.0\.1:5680/);
  });

  it('a real Prometheus scrapes global, the zone and the agent, and answers queries over them', async () => {
    const promDir = await mkdtemp(join(tmpdir(), 'meshca-prometheus-'));
    const port = await freePort();
    const target = (url: string) => new URL(url).host;
    await writeFile(
      join(promDir, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 500ms',
        '  scrape_timeout: 400ms',
        'scrape_configs:',
        '  - job_name: meshca-global',
        `    static_configs: [{ targets: ["${target(metricsUrlOf(env.global))}"] }]`,
        '  - job_name: meshca-zone',
        `    static_configs: [{ targets: ["${target(metricsUrlOf(env.zones.east!))}"] }]`,
        '  - job_name: meshca-dp',
        `    static_configs: [{ targets: ["${target(dpMetrics)}"] }]`,
        '',
      ].join('\n'),
    );
    const prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(promDir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(promDir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const query = async (q: string) => {
        const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
        const body = (await res.json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
        return body.data.result;
      };
      await eventually(async () => {
        const up = await query('up');
        expect(up.map((r) => [r.metric.job, r.value[1]]).sort()).toEqual([
          ['meshca-dp', '1'],
          ['meshca-global', '1'],
          ['meshca-zone', '1'],
        ]);
      }, 30_000);
      await eventually(async () => {
        expect((await query('kds_zones_online'))[0]?.value[1]).toBe('2');
        expect((await query('meshca_dataplanes_connected'))[0]?.value[1]).toBe('2');
        // Time to expiry, as an alert computes it: more than an hour left.
        const left = await query('min(meshca_dataplane_cert_earliest_expiration_timestamp_seconds) - time()');
        expect(Number(left[0]?.value[1])).toBeGreaterThan(3600);
        // The issuance histogram, per backend, and a zone that is caught up.
        const timed = await query('sum by (backend) (ca_manager_get_cert_seconds_count)');
        expect(timed.map((r) => [r.metric.backend, Number(r.value[1]) >= 2])).toEqual([['ca-1', true]]);
        expect((await query('kds_zone_revision_lag{zone="east"}'))[0]?.value[1]).toBe('0');
      }, 20_000);
    } finally {
      prometheus.kill('SIGTERM');
      await new Promise((r) => prometheus.once('exit', r));
      await rm(promDir, { recursive: true, force: true });
    }
  }, 60_000);
});

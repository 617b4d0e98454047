// `npm run bench`: every benchmark in sequence, one table, and bench/results.json with every figure,
// the machine, and each speed figure next to a floor or peer measured in the same run.
// Run: npm run bench [-- --only cli,issuance,tokens,sync,dataplanes,metrics,vault,acmpca,faults,ha,gui] [--dataplanes 10000] [--out FILE]
// (about 2 minutes on a 2-core machine)
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatAcmPcaBench, runAcmPcaBench, type AcmPcaBenchResult } from './acmpca.js';
import { CLI_TARGETS, formatCliBench, runCliBench, type CliBenchResult } from './cli.js';
import { formatGuiBench, GUI_TARGETS, runGuiBench, type GuiBenchResult } from './gui.js';
import { formatHaBench, HA_TARGETS, runHaBench, type HaBenchResult } from './ha.js';
import { formatDataplaneBench, type DataplaneBenchResult } from './dataplanes.js';
import { formatFloors, type FloorResult } from './tls-floor.js';
import { formatMetricsCost, METRICS_COST_TARGET, runMetricsCost, type MetricsCostResult } from './metrics-cost.js';
import { formatIssuanceBench, runIssuanceBench, type IssuanceBenchResult } from './issuance.js';
import { formatSyncBench, runSyncBench, SYNC_TARGETS, type SyncBenchResult } from './sync.js';
import { formatTokenBench, runTokenBench, type TokenBenchResult } from './tokens.js';
import { formatVaultBench, runVaultBench, type VaultBenchResult } from './vault.js';
import {
  killGlobalDuringApplies,
  restartRedisUnderLoad,
  restartZone,
  type KillGlobalResult,
  type RedisRestartResult,
  type ZoneRestartResult,
} from '../test/src/faults.js';
import { flag } from './flags.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const SECTIONS = ['cli', 'issuance', 'tokens', 'sync', 'dataplanes', 'metrics', 'vault', 'acmpca', 'faults', 'ha', 'gui'] as const;
type Section = (typeof SECTIONS)[number];

/** One line of the table: a figure, optionally next to what it is compared with and a target. */
export interface Row {
  section: Section;
  figure: string;
  value: number;
  unit: string;
  /** The floor or peer measured in the same run. */
  reference?: { label: string; value: number };
  /** value / reference.value */
  ratio?: number;
  target?: string;
  met?: boolean;
}

export interface BenchResults {
  date: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string; totalMemMb: number; loadAvgAtStart: number[] };
  durationMs: number;
  sections: {
    cli?: CliBenchResult;
    issuance?: IssuanceBenchResult;
    tokens?: TokenBenchResult;
    sync?: SyncBenchResult[];
    dataplanes?: DataplaneSection;
    metrics?: MetricsCostResult;
    vault?: VaultBenchResult;
    acmpca?: AcmPcaBenchResult;
    faults?: FaultResults;
    ha?: HaBenchResult;
    gui?: GuiBenchResult;
  };
  rows: Row[];
  notes: string[];
  errors: { section: Section; message: string }[];
  /** 1-minute load average when each section started and ended: the machine is shared. */
  load: Record<string, { start: number; end: number }>;
}

/** The zone's figures and, from the same run, a bare Node server holding as many connections. */
type DataplaneSection = DataplaneBenchResult & { floors: FloorResult[] };

const DATAPLANE_TARGETS = { coldStartMs: 15_000, bytesPerDataplane: 20 * 1024, dataplanes: 10_000 } as const;

function ref(label: string, value: number): Pick<Row, 'reference'> {
  return { reference: { label, value } };
}

function row(section: Section, figure: string, value: number, unit: string, extra: Partial<Row> = {}): Row {
  const r: Row = { section, figure, value, unit, ...extra };
  if (r.reference !== undefined) r.ratio = value / r.reference.value;
  return r;
}

function issuanceRows(r: IssuanceBenchResult): Row[] {
  const floor = 'keygen + 1 signature (floor)';
  return [
    row('issuance', 'builtin issuance, one thread', r.singleThreadPerSec, '/s', {
      ...ref(floor, r.floorPerSec),
      target: '>= 50% of floor',
      met: r.ratioToFloor >= 0.5,
    }),
    row('issuance', `builtin issuance, ${r.poolWorkers}-worker pool`, r.poolPerSec, '/s', ref(floor, r.floorPerSec)),
    row('issuance', 'CSR-mode signing (verify + sign)', r.csrPerSec, '/s', ref('1 bare signature', r.bareSignPerSec)),
    row('issuance', '@peculiar/x509 naive build (peer)', r.peculiarPerSec, '/s', ref(floor, r.floorPerSec)),
  ];
}

// Smaller than the dataplane section's 10,000: four runs, and what is compared is a ratio.
const METRICS_COST_DATAPLANES = 2000;

function metricsRows(r: MetricsCostResult): Row[] {
  const cost = (figure: string, on: number, off: number, unit: string) =>
    row('metrics', figure, on, unit, {
      ...ref('metrics off', off),
      target: `<= ${Math.round(METRICS_COST_TARGET * 100)}% of off`,
      met: on <= off * METRICS_COST_TARGET,
    });
  const { on, off } = r.mean;
  return [
    cost(`metrics on: ${r.dataplanes} dataplanes cold start`, on.coldStartMs, off.coldStartMs, 'ms'),
    cost('metrics on: zone CPU during the cold start', on.zoneCpuColdStartMs, off.zoneCpuColdStartMs, 'ms'),
    cost('metrics on: identity latency p50', on.latencyP50Ms, off.latencyP50Ms, 'ms'),
    cost('metrics on: enabledBackend switch, all rotated', on.switchRotationMs, off.switchRotationMs, 'ms'),
    row('metrics', `one scrape of the zone with ${r.dataplanes} dataplanes`, r.scrapeMs, 'ms'),
  ];
}

function cliRows(r: CliBenchResult): Row[] {
  const mb = (b: number) => b / 2 ** 20;
  return [
    row('cli', `meshctl get meshes, median of ${r.calls}`, r.meshctlMs, 'ms', {
      ...ref('node -e 0', r.nodeMs),
      target: `< ${CLI_TARGETS.meshctlMs} ms`,
      met: r.meshctlMs < CLI_TARGETS.meshctlMs,
    }),
    row('cli', 'idle meshca-dp RSS', mb(r.dpRss), 'MB', {
      ...ref('node -e 0', mb(r.nodeRss)),
      target: `< ${mb(CLI_TARGETS.dpRss)} MB`,
      met: r.dpRss < CLI_TARGETS.dpRss,
    }),
    row('cli', '  floor: bare node, one TLS connection', mb(r.tlsFloorRss), 'MB', ref('node -e 0', mb(r.nodeRss))),
    row('cli', '  floor: bare node + ws, one registered TLS connection', mb(r.wsFloorRss), 'MB', ref('node -e 0', mb(r.nodeRss))),
    row('cli', 'idle zone RSS, no dataplanes', mb(r.zoneRss), 'MB', {
      ...ref('node -e 0', mb(r.nodeRss)),
      target: `< ${mb(CLI_TARGETS.zoneRss)} MB`,
      met: r.zoneRss < CLI_TARGETS.zoneRss,
    }),
  ];
}

function haRows(r: HaBenchResult): Row[] {
  return [
    row('ha', 'zone failover: kill -9 of the leader to another replica streaming', r.failoverMs, 'ms', {
      ...ref('the lease', r.leaseMs),
      target: `<= lease + ${HA_TARGETS.overLeaseMs / 1000} s`,
      met: r.failoverMs <= r.leaseMs + HA_TARGETS.overLeaseMs,
    }),
    row('ha', `${r.dataplanes} dataplanes re-attached to another replica, all issued`, r.reattachMs, 'ms', {
      target: `< ${HA_TARGETS.reattachMs / 1000} s`,
      met: r.reattachMs < HA_TARGETS.reattachMs,
    }),
  ];
}

function guiRows(r: GuiBenchResult): Row[] {
  const { full: f, floor: b } = r;
  const floor = `${b.dataplanes} dataplanes (floor)`;
  const within = (value: number, reference: number): Partial<Row> => ({
    ...ref(floor, reference),
    target: `<= ${GUI_TARGETS.overFloor}x floor`,
    met: value <= reference * GUI_TARGETS.overFloor,
  });
  const kb = (v: number) => v / 1024;
  const n = (v: number) => v.toLocaleString('en-US');
  return [
    row(
      'gui',
      `dataplanes view, ${n(f.dataplanes)} dataplanes: first paint, median of ${r.tries}`,
      f.firstPaintMs,
      'ms',
      within(f.firstPaintMs, b.firstPaintMs),
    ),
    row(
      'gui',
      `  filter by zone until the page shows (${n(f.filteredTotal)} vs ${n(b.filteredTotal)} match)`,
      f.filterMs,
      'ms',
      within(f.filterMs, b.filterMs),
    ),
    row('gui', '  bytes the browser downloaded: load + one filter', kb(f.loadAndFilterBytes), 'KB', {
      ...ref(floor, kb(b.loadAndFilterBytes)),
      target: `< ${GUI_TARGETS.pageBytes / 1024} KB`,
      met: f.loadAndFilterBytes < GUI_TARGETS.pageBytes,
    }),
    row('gui', `GET /gui/api/dataplanes?size=50, ${n(f.dataplanes)} dataplanes`, f.jsonMs, 'ms', ref(floor, b.jsonMs)),
    row('gui', '  first GET after one insight changed (index updated)', f.jsonAfterChangeMs, 'ms', ref(floor, b.jsonAfterChangeMs)),
    row('gui', `GET /gui/api/overview, ${n(f.dataplanes)} dataplanes`, f.overviewMs, 'ms', ref(floor, b.overviewMs)),
  ];
}

function tokenRows(r: TokenBenchResult): Row[] {
  return [row('tokens', 'dataplane token verify (node:crypto)', r.meshcaPerSec, '/s', ref('jose jwtVerify (peer)', r.josePerSec))];
}

function syncRows(r: SyncBenchResult): Row[] {
  const s = `[${r.store}] `;
  return [
    row('sync', `${s}Mesh change -> ${r.zones} zones, p50`, r.propagationP50Ms, 'ms'),
    row('sync', `${s}Mesh change -> ${r.zones} zones, p99`, r.propagationP99Ms, 'ms', {
      target: `< ${SYNC_TARGETS.propagationP99Ms} ms`,
      met: r.propagationP99Ms < SYNC_TARGETS.propagationP99Ms,
    }),
    row('sync', `${s}  of which the PUT round trip, p50`, r.putP50Ms, 'ms'),
    row('sync', `${s}new zone full sync, median of ${r.fullSyncMs.length}`, r.fullSyncMedianMs, 'ms', {
      target: `< ${SYNC_TARGETS.fullSyncMs} ms`,
      met: r.fullSyncMedianMs < SYNC_TARGETS.fullSyncMs,
    }),
    row('sync', `${s}${r.zones} zones' first sync, all at once`, r.initialSyncAllZonesMs, 'ms'),
  ];
}

function dataplaneRows(r: DataplaneSection): Row[] {
  const full = r.dataplanes >= DATAPLANE_TARGETS.dataplanes;
  const limit = r.ratePerSecond + r.burst;
  const floorOf = (mode: FloorResult['mode']) => r.floors.find((f) => f.mode === mode);
  const wss = floorOf(r.tls ? 'wss' : 'ws');
  const floorLabel = r.tls ? 'bare https + ws server (floor)' : 'bare http + ws server (floor)';
  const floorRows = r.floors.map((f) =>
    row(
      'dataplanes',
      `  floor: ${f.mode === 'tls' ? 'bare node:tls echo' : f.mode === 'wss' ? 'bare https + ws' : 'bare http + ws'}, RSS per connection`,
      f.rssPerConnection / 1024,
      'KB',
    ),
  );
  return [
    row('dataplanes', `${r.dataplanes} dataplanes cold start, all hold a cert`, r.coldStartMs, 'ms', {
      ...(wss ? ref(`${floorLabel}: all ${wss.connections} connected`, wss.connectAllMs) : {}),
      target: `< ${DATAPLANE_TARGETS.coldStartMs / 1000} s at 10,000`,
      ...(full ? { met: r.coldStartMs < DATAPLANE_TARGETS.coldStartMs } : {}),
    }),
    row('dataplanes', 'identity latency p50', r.latencyP50Ms, 'ms'),
    row('dataplanes', 'identity latency p99', r.latencyP99Ms, 'ms'),
    row('dataplanes', `zone RSS per dataplane (${r.tls ? 'TLS' : 'plain ws'})`, r.rssPerDataplane / 1024, 'KB', {
      ...(wss ? ref(floorLabel, wss.rssPerConnection / 1024) : {}),
      target: `< ${DATAPLANE_TARGETS.bytesPerDataplane / 1024} KB`,
      met: r.rssPerDataplane < DATAPLANE_TARGETS.bytesPerDataplane,
    }),
    ...floorRows,
    row('dataplanes', 'enabledBackend switch, all rotated', r.switchRotationMs, 'ms'),
    row('dataplanes', 'switch peak re-issue rate (1 s window)', r.switchPeakPerSec, '/s', {
      ...ref(`limit ${r.ratePerSecond}/s + burst ${r.burst}`, limit),
      target: '<= limit + burst',
      met: r.switchPeakPerSec <= limit,
    }),
  ];
}

function vaultRows(r: VaultBenchResult): Row[] {
  return (['ec', 'rsa'] as const).map((k) => {
    const f = r[k];
    return row(
      'vault',
      `vault ${k.toUpperCase()} role, ${f.concurrency} in flight (+${r.latencyMs} ms)`,
      f.concurrentPerSec,
      '/s',
      ref('one at a time', f.sequentialPerSec),
    );
  });
}

function acmpcaRows(r: AcmPcaBenchResult): Row[] {
  return [
    row('acmpca', `acmpca, ${r.maxInFlight} in flight (+${r.latencyMs} ms)`, r.concurrentPerSec, '/s', {
      ...ref('one at a time', r.sequentialPerSec),
      target: `server sees <= ${r.maxInFlight} at once`,
      met: r.observedMaxInFlight <= r.maxInFlight,
    }),
  ];
}

interface FaultResults {
  killGlobal: KillGlobalResult;
  redisRestart: RedisRestartResult;
  zoneRestarts: ZoneRestartResult[];
}

async function runFaults(): Promise<FaultResults> {
  return {
    killGlobal: await killGlobalDuringApplies({ rounds: 5, writers: 6 }),
    redisRestart: await restartRedisUnderLoad({ downMs: 1500, writers: 4 }),
    zoneRestarts: [
      await restartZone({ store: 'redis', dataplanes: 20, downMs: 8000 }),
      await restartZone({ store: 'memory', dataplanes: 20, downMs: 8000 }),
    ],
  };
}

function formatFaults(r: FaultResults): string {
  const k = r.killGlobal;
  const d = r.redisRestart;
  return [
    `global kill -9 x ${k.rounds} during applies on Redis: ${k.acknowledged} writes acknowledged, ${k.lost.length} lost, ${k.halfWritten.length} half-written, ${k.unanswered} in flight at a kill`,
    `Redis down 1.5 s under load: refusals ${JSON.stringify(d.refusedWhileDown)} (slowest ${d.slowestRefusalMs} ms), writing again ${d.recoveryMs} ms after it is back, ${d.lost.length} of ${d.acknowledged} acknowledged lost`,
    ...r.zoneRestarts.map(
      (z) =>
        `zone on ${z.store}${z.globalDown ? ' (global down)' : ''} kill -9, down 8 s: started in ${z.zoneStartMs} ms; ${z.dataplanes} dataplanes back in ${z.reconnectedMs} ms, re-issued in ${z.reissuedMs} ms; certificates valid throughout: ${z.keptValidCertificates}`,
    ),
  ].join('\n');
}

function faultRows(r: FaultResults): Row[] {
  const k = r.killGlobal;
  const d = r.redisRestart;
  return [
    row('faults', `global kill -9 x ${k.rounds} during applies: acknowledged writes`, k.acknowledged, 'writes'),
    row('faults', '  acknowledged writes lost', k.lost.length, 'writes', { target: '0', met: k.lost.length === 0 }),
    row('faults', '  half-written resources (builtin CA without its pair or Mesh)', k.halfWritten.length, '', {
      target: '0',
      met: k.halfWritten.length === 0,
    }),
    row('faults', 'Redis down under load: slowest refusal (503)', d.slowestRefusalMs, 'ms', {
      target: '< 2 s (no hanging)',
      met: d.slowestRefusalMs < 2000,
    }),
    row('faults', '  first acknowledged write after Redis is back', d.recoveryMs, 'ms', { target: '< 5 s', met: d.recoveryMs < 5000 }),
    row('faults', '  acknowledged writes lost', d.lost.length, 'writes', { target: '0', met: d.lost.length === 0 }),
    ...r.zoneRestarts.map((z) =>
      row(
        'faults',
        `zone on ${z.store}${z.globalDown ? ', global down' : ''}, kill -9: ${z.dataplanes} dataplanes re-issued after it listens`,
        z.reissuedMs,
        'ms',
        {
          ...ref("the zone process's own start", z.zoneStartMs),
          target: '< 5 s',
          met: z.reissuedMs < 5000 && z.keptValidCertificates,
        },
      ),
    ),
  ];
}

function shell(script: string): string {
  return execFileSync('bash', ['-c', script]).toString().trim();
}

/** Runs a bench script in a child whose open-file limit is raised as far as the hard limit allows; returns its --json line. */
async function runWithConnections<T>(script: string, countFlag: string, wanted: number, notes: string[], extra: string[] = []): Promise<T> {
  const hardText = shell('ulimit -Hn');
  const hard = hardText === 'unlimited' ? Number.POSITIVE_INFINITY : Number(hardText);
  const soft = Number(shell('ulimit -n'));
  const fdLimit = Math.min(hard, Math.max(soft, wanted + 1000));
  let n = wanted;
  if (fdLimit < wanted + 200) {
    n = Math.max(100, Math.floor((fdLimit - 200) / 1000) * 1000);
    notes.push(
      `${script}: ulimit -n hard limit is ${hardText}, so ${n} connections were run instead of ${wanted} (raise the hard limit for the full figure)`,
    );
  }
  const cmd = `ulimit -n ${fdLimit} && exec "$0" --import tsx "$1" --${countFlag} ${n} --json "\${@:2}"`;
  const child = spawn('bash', ['-c', cmd, process.execPath, join(HERE, script), ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => child.once('exit', r));
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0 || !(last.startsWith('{') || last.startsWith('[')))
    throw new Error(`bench/${script} exited with ${code}: ${out.slice(-500)}`);
  return JSON.parse(last) as T;
}

async function runDataplanes(wanted: number, notes: string[]): Promise<DataplaneSection> {
  const zone = await runWithConnections<DataplaneBenchResult>('dataplanes.ts', 'dataplanes', wanted, notes);
  const floors = await runWithConnections<FloorResult[]>('tls-floor.ts', 'connections', zone.dataplanes, notes);
  return { ...zone, floors };
}

function formatTable(rows: Row[]): string {
  const num = (v: number, unit: string): string => {
    const digits = unit === 'ms' && v < 100 ? 1 : unit === 'KB' ? 1 : v < 100 ? 1 : 0;
    return `${v.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })} ${unit}`;
  };
  const cells = rows.map((r) => [
    r.figure,
    num(r.value, r.unit),
    r.reference ? `${r.reference.label}: ${num(r.reference.value, r.unit)}` : '',
    r.ratio === undefined
      ? ''
      : r.ratio >= 10
        ? `${r.ratio.toFixed(0)}x`
        : r.ratio >= 1.5
          ? `${r.ratio.toFixed(1)}x`
          : `${(r.ratio * 100).toFixed(0)}%`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const header = ['figure', 'value', 'measured next to (same run)', 'ratio', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: string[]): string =>
    `| ${c.map((v, i) => (i === 1 || i === 3 ? v.padStart(widths[i] ?? 0) : v.padEnd(widths[i] ?? 0))).join(' | ')} |`;
  return [
    line(header),
    `|${widths.map((w, i) => (i === 1 || i === 3 ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...cells.map(line),
  ].join('\n');
}

async function main(): Promise<void> {
  const only = flag('only');
  const chosen: Section[] = only === undefined ? [...SECTIONS] : (only.split(',').map((s) => s.trim()) as Section[]);
  const unknown = chosen.filter((s) => !SECTIONS.includes(s));
  if (unknown.length > 0) throw new Error(`--only ${unknown.join(',')}: the benchmarks are ${SECTIONS.join(', ')}`);
  const out = flag('out') ?? join(HERE, 'results.json');
  const dataplanes = Number(flag('dataplanes') ?? DATAPLANE_TARGETS.dataplanes);

  const started = performance.now();
  const results: BenchResults = {
    date: new Date().toISOString(),
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      node: process.version,
      platform: `${platform()} ${release()}`,
      totalMemMb: Math.round(totalmem() / 2 ** 20),
      loadAvgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
    },
    durationMs: 0,
    sections: {},
    rows: [],
    notes: [],
    errors: [],
    load: {},
  };
  const load1 = (): number => Math.round((loadavg()[0] ?? 0) * 100) / 100;
  const step = async <T>(section: Section, run: () => Promise<T>, show: (r: T) => string, rows: (r: T) => Row[]): Promise<void> => {
    if (!chosen.includes(section)) return;
    const t = performance.now();
    const loadStart = load1();
    console.error(`== ${section} ...`);
    try {
      const r = await run();
      (results.sections as Record<string, unknown>)[section] = r;
      results.rows.push(...rows(r));
      console.error(`${show(r)}\n   (${section}: ${((performance.now() - t) / 1000).toFixed(1)} s)\n`);
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      results.errors.push({ section, message });
      console.error(`   ${section} failed: ${message}\n`);
    }
    results.load[section] = { start: loadStart, end: load1() };
  };

  await step('cli', () => runCliBench(), formatCliBench, cliRows);
  await step('issuance', () => runIssuanceBench(), formatIssuanceBench, issuanceRows);
  await step('tokens', () => runTokenBench(), formatTokenBench, tokenRows);
  await step(
    'sync',
    async () => [await runSyncBench({ store: 'memory' }), await runSyncBench({ store: 'redis' })],
    (rs) => rs.map(formatSyncBench).join('\n'),
    (rs) => rs.flatMap(syncRows),
  );
  await step(
    'dataplanes',
    () => runDataplanes(dataplanes, results.notes),
    (r) => `${formatDataplaneBench(r)}\n${formatFloors(r.floors)}`,
    dataplaneRows,
  );
  await step(
    'metrics',
    () =>
      runMetricsCost(METRICS_COST_DATAPLANES, (metrics) =>
        runWithConnections<DataplaneBenchResult>(
          'dataplanes.ts',
          'dataplanes',
          METRICS_COST_DATAPLANES,
          results.notes,
          metrics ? ['--metrics'] : [],
        ),
      ),
    formatMetricsCost,
    metricsRows,
  );
  await step('vault', () => runVaultBench(), formatVaultBench, vaultRows);
  await step('acmpca', () => runAcmPcaBench(), formatAcmPcaBench, acmpcaRows);
  await step('faults', runFaults, formatFaults, faultRows);
  await step('ha', () => runHaBench(), formatHaBench, haRows);
  await step('gui', () => runGuiBench({ dataplanes }), formatGuiBench, guiRows);

  results.durationMs = Math.round(performance.now() - started);
  const busiest = Math.max(...Object.values(results.load).map((l) => Math.max(l.start, l.end)));
  if (busiest > results.machine.cpus * 1.5) {
    results.notes.push(
      `the machine was shared: 1-minute load average up to ${busiest} on ${results.machine.cpus} cores during the run, this benchmark included (per section in "load"); absolute rates are low, ratios to same-run floors less so`,
    );
  }
  await writeFile(out, `${JSON.stringify(results, null, 2)}\n`);
  const m = results.machine;
  console.log(
    `meshca benchmarks, ${results.date.slice(0, 16).replace('T', ' ')} UTC — ${m.cpus} x ${m.cpuModel}, Node ${m.node}, ${(results.durationMs / 1000).toFixed(0)} s`,
  );
  console.log(formatTable(results.rows));
  console.log(
    `load average (1 min) per section: ${Object.entries(results.load)
      .map(([k, l]) => `${k} ${l.start}->${l.end}`)
      .join(', ')}`,
  );
  for (const n of results.notes) console.log(`note: ${n}`);
  for (const e of results.errors) console.log(`FAILED ${e.section}: ${e.message}`);
  console.log(`figures written to ${out}`);
  process.exit(results.errors.length > 0 ? 1 : 0);
}

await main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(2);
});

// What the zone's metrics cost: the dataplane bench with metrics off and on (its issuance
// observer, its gauges, a scrape every second), alternated off-on-on-off so that drift of a shared
// machine falls on both sides alike. Run through `npm run bench -- --only metrics`.
import type { DataplaneBenchResult } from './dataplanes.js';

export interface MetricsCostResult {
  dataplanes: number;
  off: DataplaneBenchResult[];
  on: DataplaneBenchResult[];
  /** Mean of each side. */
  mean: { off: Figures; on: Figures };
  /** The median time of one scrape of the zone holding all its dataplanes. */
  scrapeMs: number;
}

interface Figures {
  coldStartMs: number;
  zoneCpuColdStartMs: number;
  latencyP50Ms: number;
  switchRotationMs: number;
}

export const METRICS_COST_TARGET = 1.05;

const mean = (rs: DataplaneBenchResult[], pick: (r: DataplaneBenchResult) => number): number =>
  Math.round((rs.reduce((n, r) => n + pick(r), 0) / rs.length) * 10) / 10;

const figures = (rs: DataplaneBenchResult[]): Figures => ({
  coldStartMs: mean(rs, (r) => r.coldStartMs),
  zoneCpuColdStartMs: mean(rs, (r) => r.zoneCpuColdStartMs),
  latencyP50Ms: mean(rs, (r) => r.latencyP50Ms),
  switchRotationMs: mean(rs, (r) => r.switchRotationMs),
});

/** `run(metrics)` runs the dataplane bench once (in its own process, with its file limit raised). */
export async function runMetricsCost(
  dataplanes: number,
  run: (metrics: boolean) => Promise<DataplaneBenchResult>,
): Promise<MetricsCostResult> {
  const off: DataplaneBenchResult[] = [];
  const on: DataplaneBenchResult[] = [];
  for (const metrics of [false, true, true, false]) (metrics ? on : off).push(await run(metrics));
  const scrapes = on.map((r) => r.scrapeMs ?? Number.NaN).sort((a, b) => a - b);
  return {
    dataplanes,
    off,
    on,
    mean: { off: figures(off), on: figures(on) },
    scrapeMs: scrapes[Math.floor(scrapes.length / 2)] ?? Number.NaN,
  };
}

export function formatMetricsCost(r: MetricsCostResult): string {
  const line = (label: string, k: keyof Figures, unit: string) =>
    `${label.padEnd(34)}off ${r.mean.off[k]} ${unit}, on ${r.mean.on[k]} ${unit} (${((r.mean.on[k] / r.mean.off[k]) * 100).toFixed(0)}%)`;
  return [
    `zone metrics off vs on, ${r.dataplanes} dataplanes, 2 runs each (off, on, on, off)`,
    line('cold start, all hold a cert', 'coldStartMs', 'ms'),
    line('zone CPU during the cold start', 'zoneCpuColdStartMs', 'ms'),
    line('identity latency p50', 'latencyP50Ms', 'ms'),
    line('enabledBackend switch, all rotated', 'switchRotationMs', 'ms'),
    `one scrape with all connected         ${r.scrapeMs} ms`,
  ].join('\n');
}

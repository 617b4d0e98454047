// deploy/prometheus: the scrape configuration and the alert rules, checked by promtool (Debian's
// `prometheus` package), and the rules' unit tests (alerts.test.yml) run by it.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { REPO_ROOT } from '../src/index.js';

const DIR = join(REPO_ROOT, 'deploy/prometheus');
const promtool = (...args: string[]) => promisify(execFile)('promtool', args, { cwd: DIR });

describe('deploy/prometheus', () => {
  it('promtool accepts the scrape configuration and the rules', async () => {
    expect((await promtool('check', 'config', 'prometheus.yml')).stdout).toContain('SUCCESS');
    expect((await promtool('check', 'rules', 'alerts.yml')).stdout).toContain('SUCCESS: 10 rules found');
  });

  it('every alert rule fires when it should and not before (promtool test rules)', async () => {
    const { stdout } = await promtool('test', 'rules', 'alerts.test.yml');
    expect(stdout).toMatch(/Unit Testing:\s+alerts\.test\.yml\s+SUCCESS/);
  });

  it('the Grafana dashboard: valid PromQL in every panel, over metrics meshca exports', async () => {
    const dashboard = JSON.parse(await readFile(join(DIR, 'grafana-dashboard.json'), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[];
    };
    const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => ({ title: p.title, expr: t.expr })));
    expect(exprs.length).toBeGreaterThan(10);
    // promtool checks PromQL inside rule files: each panel's query as a recording rule.
    const dir = await mkdtemp(join(tmpdir(), 'meshca-dashboard-'));
    try {
      const rules = ['groups:', '  - name: dashboard', '    rules:'];
      exprs.forEach((e, i) => rules.push(`      - record: panel_${i}`, `        expr: ${JSON.stringify(e.expr)}`));
      await writeFile(join(dir, 'panels.yml'), `${rules.join('\n')}\n`);
      expect((await promisify(execFile)('promtool', ['check', 'rules', join(dir, 'panels.yml')])).stdout).toContain(
        `SUCCESS: ${exprs.length} rules found`,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // Every metric a panel reads is one a meshca process registers (or prom-client's process metrics).
    const sources = await Promise.all(
      ['apps/zone/src/metrics.ts', 'apps/zone/src/issuance-metrics.ts', 'apps/global/src/metrics.ts', 'apps/dp-agent/src/metrics.ts'].map(
        (f) => readFile(join(REPO_ROOT, f), 'utf8'),
      ),
    );
    // Registered as `name: '...'` or through a helper taking the name first.
    const exported = new Set(sources.flatMap((text) => [...text.matchAll(/(?:name: |\(\s*)'([a-z_]+)'/g)].map((m) => m[1])));
    // The alert rules too: a renamed metric would leave an alert that never fires.
    const alerts = parse(await readFile(join(DIR, 'alerts.yml'), 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    for (const rule of alerts.groups.flatMap((g) => g.rules)) exprs.push({ title: rule.alert, expr: rule.expr });
    for (const { title, expr } of exprs) {
      for (const name of expr.match(/\b(?:meshca|kds|cert|ca_manager)_[a-z_]+/g) ?? [])
        expect(exported, `${title}: ${name}`).toContain(name.replace(/_(bucket|sum|count)$/, ''));
    }
  });
});

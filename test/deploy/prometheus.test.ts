// deploy/prometheus: the scrape configuration and the alert rules, checked by promtool (Debian's
// `prometheus` package), and the rules' unit tests (alerts.test.yml) run by it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../src/index.js';

const DIR = join(REPO_ROOT, 'deploy/prometheus');
const promtool = (...args: string[]) => promisify(execFile)('promtool', args, { cwd: DIR });

describe('deploy/prometheus', () => {
  it('promtool accepts the scrape configuration and the rules', async () => {
    expect((await promtool('check', 'config', 'prometheus.yml')).stdout).toContain('SUCCESS');
    expect((await promtool('check', 'rules', 'alerts.yml')).stdout).toContain('SUCCESS: 6 rules found');
  });

  it('every alert rule fires when it should and not before (promtool test rules)', async () => {
    const { stdout } = await promtool('test', 'rules', 'alerts.test.yml');
    expect(stdout).toMatch(/Unit Testing:\s+alerts\.test\.yml\s+SUCCESS/);
  });
});

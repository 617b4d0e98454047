// The GUI in a real browser (Debian's chromium, driven by playwright-core, no browser download)
// against a real global with two zones and dataplanes: each view shows the real data, a filter
// works, a rotation step appears, a zone going offline shows within seconds without a reload, the
// views pass axe-core and can be used from the keyboard, a zone serves the same views, and from
// another host the token is asked for. Screenshots go to test/artifacts/gui/.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, startGlobalProcess, startMeshEnv, type GlobalProcess, type MeshEnv, type MeshService } from '../src/index.js';

const CHROMIUM = process.env.MESHCA_CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'test/artifacts/gui');
const AXE = join(REPO_ROOT, 'node_modules/axe-core/axe.min.js');

let env: MeshEnv;
let browser: Browser;
let context: BrowserContext;
let page: Page;
const services: MeshService[] = [];
const errors: string[] = [];

const gui = (hash = '') => `${env.global.apiUrl}/gui/${hash}`;
const focused = () => page.evaluate<string | undefined>('document.activeElement?.textContent');
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  env = await startMeshEnv({ zones: ['east', 'west'] });
  await env.admin.call('PUT', '/meshes/default', {
    type: 'Mesh',
    name: 'default',
    mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] },
  });
  services.push(
    await env.startService('east', { name: 'web-1', service: 'web' }),
    await env.startService('west', { name: 'api-1', service: 'api' }),
  );
  await Promise.all(services.map((s) => s.handle.ready(20_000)));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  for (const s of services) await s.close();
  await env?.stop();
});

describe('GUI on global, in Chromium', () => {
  it('overview: both zones online, the mesh, dataplanes per zone, nothing to attend to', async () => {
    await page.goto(gui('#/'));
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Overview');
    const zones = page.getByRole('table', { name: 'Zones' });
    await expect
      .poll(() => zones.locator('tbody tr').allInnerTexts())
      .toEqual([expect.stringMatching(/^east\s+● Online/), expect.stringMatching(/^west\s+● Online/)]);
    expect(await page.getByRole('table', { name: 'Meshes' }).locator('tbody tr').innerText()).toMatch(
      /^default\s+ca-1\s+ca-1 \(builtin\)\s+2$/,
    );
    await expect
      .poll(() => page.getByRole('table', { name: 'Dataplanes by zone' }).locator('tbody tr').allInnerTexts())
      .toEqual([expect.stringMatching(/^east\s+1\s+1$/), expect.stringMatching(/^west\s+1\s+1$/)]);
    expect(await page.locator('#problems + p').innerText()).toMatch(/^Nothing/);
    expect(await page.locator('header .where').innerText()).toBe('global');
    await shot('overview');
  });

  it('mesh: the backend, its CA as the zones report it, and the rotation per zone', async () => {
    await page.getByRole('link', { name: 'default', exact: true }).first().click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Mesh default');
    const backend = page.getByRole('table', { name: 'Backends of mesh default' }).locator('tbody tr');
    await expect.poll(() => backend.innerText()).toMatch(/^ca-1\s+builtin\s+yes\s+CN=meshca default ca-1\s+20\d\d-/);
    expect(await backend.innerText()).toMatch(/east: ● available\s+west: ● available/);
    const rotation = page.locator('figure.backend');
    expect(await rotation.locator('figcaption').innerText()).toBe('ca-1 (builtin): enabled');
    expect(await rotation.locator('.bar-value').allInnerTexts()).toEqual(['1/1', '1/1', '1/1', '1/1']);
    await shot('mesh');
  });

  it('dataplanes: every zone in one table; a zone filter leaves one; the detail shows its certificate', async () => {
    await page.goto(gui('#/dataplanes'));
    const count = page.getByRole('status');
    await expect.poll(() => count.innerText()).toBe('1–2 of 2 dataplanes');
    expect(await page.locator('table.dataplanes tbody tr th').allInnerTexts()).toEqual(
      expect.arrayContaining(['east.web-1', 'west.api-1']),
    );
    await page.getByLabel('Zone').selectOption('west');
    await expect.poll(() => count.innerText()).toBe('1–1 of 1 dataplanes');
    expect(page.url()).toContain('#/dataplanes?zone=west');
    const row = page.locator('table.dataplanes tbody tr');
    expect(await row.innerText()).toMatch(/^default\s+west\.api-1\s+west\s+api\s+yes\s+ca-1\s+[0-9a-f]{8}…\s+20\d\d-.*UTC\s+23h 5\dm/);
    await page.getByLabel('Name contains').fill('nothing-like-this');
    await expect.poll(() => count.innerText()).toBe('No dataplane matches.');
    await page.getByLabel('Name contains').fill('api');
    await expect.poll(() => count.innerText()).toBe('1–1 of 1 dataplanes');
    await shot('dataplanes');
    await page.getByRole('link', { name: 'west.api-1' }).click();
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Dataplane west.api-1');
    await page.locator('#cert-h').waitFor();
    const facts = await page.locator('main').innerText();
    expect(facts).toContain('spiffe://default/api');
    expect(facts).toMatch(/Issuer\s+CN=meshca default ca-1/);
    expect(facts).toMatch(/Chain\s+CN=meshca default ca-1, issued by CN=meshca default ca-1/);
    expect(facts).toContain(services[1]!.handle.current()!.serial);
    await shot('dataplane');
  });

  it('a filter changed while a text filter waits to apply is kept (both end up in the URL)', async () => {
    await page.goto(gui('#/dataplanes'));
    await expect.poll(() => page.getByLabel('Zone').locator('option').count()).toBe(3);
    await page.getByLabel('Name contains').fill('api');
    await page.getByLabel('Zone').selectOption('west'); // before the name filter's pause is over
    await expect.poll(() => new URL(page.url()).hash).toMatch(/^#\/dataplanes\?(zone=west&q=api|q=api&zone=west)$/);
    await page.waitForTimeout(500);
    expect(new URL(page.url()).hash).toMatch(/zone=west/);
    await expect.poll(() => page.getByRole('status').innerText()).toBe('1–1 of 1 dataplanes');
  });

  it('a rotation step shows without a reload: ca-2 added, then the switch to it may be taken', async () => {
    await page.goto(gui('#/meshes/default'));
    await expect.poll(() => page.locator('main h1').textContent()).toBe('Mesh default');
    await env.admin.call('PUT', '/meshes/default', {
      type: 'Mesh',
      name: 'default',
      mtls: {
        enabledBackend: 'ca-1',
        backends: [
          { name: 'ca-1', type: 'builtin' },
          { name: 'ca-2', type: 'builtin' },
        ],
      },
    });
    // The zones push ca-2's root to both dataplanes; then the validators accept the switch.
    const step = page.locator('.steps > li', { hasText: 'switch enabledBackend to ca-2' });
    await expect.poll(() => step.innerText(), { timeout: 20_000 }).toMatch(/^✓ may be taken now: switch enabledBackend to ca-2/);
    expect(await page.locator('figure.backend').count()).toBe(2);
    await shot('rotation');
  }, 30_000);

  it('passes axe-core with no serious or critical violations on every view', async () => {
    // axe is injected as a script: a context that bypasses the page's CSP, for the check only.
    const axeContext = await browser.newContext({ ignoreHTTPSErrors: true, bypassCSP: true });
    const axePage = await axeContext.newPage();
    const axe = await readFile(AXE, 'utf8');
    try {
      for (const view of ['#/', '#/meshes/default', '#/zones', '#/dataplanes', '#/dataplanes/default/east.web-1']) {
        await axePage.goto(gui(view));
        await axePage.waitForSelector('main h1');
        await axePage.waitForSelector('main table, main dl, main .empty');
        await axePage.addScriptTag({ content: axe });
        const violations = await axePage.evaluate<{ id: string; impact: string; nodes: number }[]>(
          'axe.run().then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length })))',
        );
        expect(
          violations.filter((v) => v.impact === 'serious' || v.impact === 'critical'),
          `${view}: ${JSON.stringify(violations)}`,
        ).toEqual([]);
      }
    } finally {
      await axeContext.close();
    }
  }, 60_000);

  it('works from the keyboard: skip link, the views through the navigation, focus on each heading', async () => {
    await page.goto('about:blank'); // a fresh page load: focus starts at the top
    await page.goto(gui('#/'));
    await page.waitForSelector('main h1');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate<string>('document.activeElement?.tagName')).toBe('H1');
    // From the top: skip link, then the navigation in order.
    await page.evaluate('document.activeElement?.blur()');
    const reached: string[] = [];
    for (let i = 0; i < 4; i++) {
      await page.keyboard.press('Tab');
      reached.push((await focused()) ?? '');
    }
    expect(reached).toContain('Zones');
    while ((await focused()) !== 'Zones') await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect
      .poll(() => page.evaluate<string>('`${document.activeElement?.tagName} ${document.activeElement?.textContent}`'))
      .toBe('H1 Zones');
    // The filters are plain labelled controls: reachable and operable by keys.
    await page.goto(gui('#/dataplanes'));
    // The zones to choose from come with the first page of data.
    await expect.poll(() => page.getByLabel('Zone').locator('option').count()).toBe(3);
    await page.getByLabel('Zone').focus();
    await page.keyboard.press('ArrowDown');
    await expect.poll(() => page.getByRole('status').innerText()).toMatch(/of 1 dataplanes$/);
  });

  it("a zone's own GUI shows the same views over what it holds", async () => {
    const zone = env.zones.east!;
    const zonePage = await context.newPage();
    try {
      await zonePage.goto(`${zone.apiUrl}/gui/#/dataplanes`);
      await expect.poll(() => zonePage.getByRole('status').innerText()).toBe('1–1 of 1 dataplanes');
      expect(await zonePage.locator('header .where').innerText()).toBe('zone east');
      expect(await zonePage.locator('table.dataplanes tbody tr th').innerText()).toBe('web-1');
      await zonePage.goto(`${zone.apiUrl}/gui/#/zones`);
      await expect.poll(() => zonePage.locator('table tbody tr').first().innerText()).toMatch(/^east\s+● Online/);
      // Global's name for a dataplane, on the zone: the answer says how the zone names it.
      await zonePage.goto(`${zone.apiUrl}/gui/#/dataplanes/default/east.web-1`);
      await expect.poll(() => zonePage.getByRole('alert').innerText()).toMatch(/without the "<zone>\." that global puts in front/);
    } finally {
      await zonePage.close();
    }
  });

  it('a zone going offline shows within seconds, without a reload', async () => {
    await page.goto(gui('#/zones'));
    const west = page.locator('table tbody tr', { hasText: 'west' });
    await expect.poll(() => west.innerText()).toMatch(/● Online/);
    const stopped = Date.now();
    await env.zones.west!.stop();
    await expect.poll(() => west.innerText(), { timeout: 10_000, interval: 100 }).toMatch(/○ Offline/);
    const seconds = (Date.now() - stopped) / 1000;
    expect(seconds).toBeLessThan(5);
    await shot('zones');
    await page.goto(gui('#/'));
    await expect.poll(() => page.locator('.problems').innerText()).toContain('zone west is offline');
    // What west reported last is shown as such, not as the present.
    expect(await page.getByRole('table', { name: 'Dataplanes by zone' }).locator('tbody tr', { hasText: 'west' }).innerText()).toMatch(
      /last reported: the zone is offline/,
    );
    await page.goto(gui('#/dataplanes?zone=west'));
    await expect.poll(() => page.locator('table.dataplanes tbody tr').innerText()).toMatch(/unknown \(zone offline; was yes\)/);
    await page.goto(gui('#/meshes/default'));
    await expect
      .poll(() => page.locator('main').innerText())
      .toMatch(/1 of 2 dataplanes connected, 1 more as last reported by offline zones/);
    expect(await page.locator('main').innerText()).toMatch(/Offline: zone west\. What it reported last is shown below/);
    expect(errors).toEqual([]);
  }, 30_000);
});

// ------------------------------------------------------------------------------------------------
// From another host: a network namespace of the test's own (198.51.100.0/24, routed nowhere) holds
// a global and the browser; requests come from 198.51.100.7, not localhost, so reads need the token.

const isRoot = process.getuid?.() === 0;
const NS = `gui${process.pid % 100_000}`;

describe.skipIf(!isRoot)('GUI from another host', () => {
  let remote: GlobalProcess | undefined;
  let dir: string;
  let remoteBrowser: Browser | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshca-gui-remote-'));
    execFileSync('ip', ['netns', 'add', NS]);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
    // No IPv6 here: its address setup (DAD) finishing after Chromium started is a "network change",
    // and Chromium aborts the navigation in flight with ERR_NETWORK_CHANGED.
    execFileSync('ip', [
      'netns',
      'exec',
      NS,
      'sysctl',
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    // A veth pair inside the namespace: an interface with an address that is not loopback.
    execFileSync('ip', ['-n', NS, 'link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1']);
    execFileSync('ip', ['-n', NS, 'addr', 'add', '198.51.100.7/24', 'dev', 'v0']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'v0', 'up']);
    execFileSync('ip', ['-n', NS, 'link', 'set', 'v1', 'up']);
    remote = await startGlobalProcess({
      apiAddress: '198.51.100.7',
      prefix: ['ip', 'netns', 'exec', NS],
      extraArgs: ['--metrics-address', 'off'],
    });
    const wrapper = join(dir, 'chromium-in-ns');
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${NS} ${CHROMIUM} "$@"\n`);
    await chmod(wrapper, 0o755);
    remoteBrowser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox'] });
  }, 60_000);

  afterAll(async () => {
    await remoteBrowser?.close();
    await remote?.stop();
    try {
      execFileSync('ip', ['netns', 'del', NS]);
    } catch {
      // not created
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses the views without the token, asks for it, keeps it out of the URL and the logs', async () => {
    const ctx = await remoteBrowser!.newContext({ ignoreHTTPSErrors: true });
    const p = await ctx.newPage();
    const statuses: number[] = [];
    p.on('response', (r) => {
      if (r.url().includes('/gui/api/overview')) statuses.push(r.status());
    });
    try {
      expect(remote!.apiUrl).toMatch(/^https:\/\/198\.51\.100\.7:/);
      // Chromium still sees the namespace's interfaces come up now and then: one more try for that only.
      await p.goto(`${remote!.apiUrl}/gui/#/`).catch(async (err: Error) => {
        if (!err.message.includes('ERR_NETWORK_CHANGED')) throw err;
        await p.waitForTimeout(500);
        await p.goto(`${remote!.apiUrl}/gui/#/`);
      });
      await expect.poll(() => p.locator('main h1').textContent()).toBe('Admin token needed');
      expect(statuses[0]).toBe(401);
      expect(await p.locator('main').innerText()).not.toContain('Overview');
      await p.getByLabel('Admin token', { exact: true }).fill('not-the-token');
      await p.getByRole('button', { name: 'Use this token' }).click();
      await expect.poll(() => p.getByRole('alert').innerText()).toBe('That token is not valid for this control plane.');
      const token = (await readFile(remote!.tokenFile, 'utf8')).trim();
      await p.getByLabel('Admin token', { exact: true }).fill(token);
      await p.getByRole('button', { name: 'Use this token' }).click();
      await expect.poll(() => p.locator('main h1').textContent()).toBe('Overview');
      await p.screenshot({ path: join(ARTIFACTS, 'token.png') });
      expect(p.url()).not.toContain(token);
      expect(JSON.stringify(remote!.logs)).not.toContain(token);
      expect(await p.evaluate<string | null>("sessionStorage.getItem('meshca.adminToken')")).toBe(token);
      expect(await p.evaluate<number>('localStorage.length')).toBe(0);
    } finally {
      await ctx.close();
    }
  });
});

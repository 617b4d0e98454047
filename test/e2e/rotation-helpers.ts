// Shared parts of the CA rotation end-to-end tests: continuous cross-zone traffic that counts
// every request (each one a fresh mTLS handshake), and readers of what meshctl and global say.
import type { BackendRotationState } from '@meshca/api';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { certsOf, type MeshEnv, type MeshService } from '../src/index.js';

export const SEEDS = join(import.meta.dirname, '../../libs/api/test/fixtures/seeds');
export const seedFile = (name: string): string => join(SEEDS, name);
export const seedText = (name: string): string => readFileSync(seedFile(name), 'utf8');

export interface TrafficLoop {
  readonly ok: number;
  readonly failures: string[];
  /** Resolves once at least `n` more requests succeeded (proof traffic flows at this point); rejects after `timeoutMs`. */
  more(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** `from` calls `to` back to back (a fresh connection per request, as the agent keeps none alive). */
export function trafficLoop(from: MeshService, to: MeshService): TrafficLoop {
  let ok = 0;
  const failures: string[] = [];
  let stopped = false;
  const waiters: { at: number; resolve: () => void }[] = [];
  const expected = `${to.service}@${to.zone}`;
  const running = (async () => {
    while (!stopped) {
      try {
        const answer = await from.call(to);
        if (answer === expected) ok++;
        else failures.push(`${from.name} -> ${to.name}: answered ${answer}`);
      } catch (err) {
        failures.push(`${from.name} -> ${to.name}: ${(err as Error).message}`);
      }
      for (const w of waiters.filter((w) => ok >= w.at)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  })();
  return {
    get ok() {
      return ok;
    },
    failures,
    more: (n, timeoutMs = 10_000) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${from.name} -> ${to.name}: not ${n} more answers within ${timeoutMs} ms; last failures: ${failures.slice(-3).join(' | ')}`)), timeoutMs);
      waiters.push({ at: ok + n, resolve: () => { clearTimeout(timer); resolve(); } });
    }),
    async stop() {
      stopped = true;
      await running;
    },
  };
}

/** One row of `meshctl inspect mesh -o json`. */
export type RotationRow = BackendRotationState;

export async function inspectMesh(env: MeshEnv, mesh = 'default'): Promise<{ enabledBackend: string | null; backends: RotationRow[] }> {
  const r = await env.meshctl('inspect', 'mesh', mesh, '-o', 'json');
  if (r.code !== 0) throw new Error(`meshctl inspect mesh failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { enabledBackend: string | null; backends: RotationRow[] };
}

/** Polls `meshctl inspect mesh -o json` until, for every zone, `backend` has the counts wanted (of `dataplanes` each). */
export async function waitForRotation(
  env: MeshEnv,
  want: { backend: string; trusting?: 'all' | 'none'; holding?: 'all' | 'none' },
  zones: Record<string, number>,
  timeoutMs = 30_000,
): Promise<RotationRow[]> {
  const until = Date.now() + timeoutMs;
  let last: RotationRow[] = [];
  for (;;) {
    last = (await inspectMesh(env)).backends;
    const rows = last.filter((r) => r.backend === want.backend);
    const done = Object.entries(zones).every(([zone, n]) => {
      const row = rows.find((r) => r.zone === zone);
      if (row === undefined || row.dataplanes !== n) return false;
      const count = (w: 'all' | 'none' | undefined, v: number) => w === undefined || v === (w === 'all' ? n : 0);
      return count(want.trusting, row.trusting) && count(want.holding, row.holding);
    });
    if (done) return last;
    if (Date.now() > until) throw new Error(`rotation state not reached (${JSON.stringify(want)}): ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

export async function getMesh(env: MeshEnv, name = 'default'): Promise<Record<string, unknown>> {
  return (await env.admin.call<Record<string, unknown>>('GET', `/meshes/${name}`)).body;
}

/** A refused apply leaves the Mesh as it was: same version, same mtls. */
export async function expectUnchanged(env: MeshEnv, before: Record<string, unknown>): Promise<void> {
  expect(await getMesh(env)).toEqual(before);
}

/** Each certificate of a PEM bundle. */
export const certs = certsOf;

/** Whether the leaf of `chainPem` was signed by the root `caPem`. */
export function issuedBy(chainPem: string, caPem: string): boolean {
  const leaf = certs(chainPem)[0];
  const ca = certs(caPem)[0];
  return leaf !== undefined && ca !== undefined && leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

export function bundleHas(bundlePem: string, caPem: string): boolean {
  const fp = certs(caPem)[0]?.fingerprint256;
  return certs(bundlePem).some((c) => c.fingerprint256 === fp);
}

export function secretYaml(name: string, text: string, mesh = 'default'): string {
  return `type: Secret\nname: ${name}\nmesh: ${mesh}\ndata: ${Buffer.from(text).toString('base64')}\n`;
}

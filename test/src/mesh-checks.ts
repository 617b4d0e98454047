// Steps and checks the end-to-end suites share: applying through meshctl, pairs of services across
// the two zones, and what global reports of their dataplanes.
import { X509Certificate } from 'node:crypto';
import { expect } from 'vitest';
import type { MeshEnv, MeshService } from './mesh-env.js';
import { eventually } from './zone-process.js';

export async function applyYaml(env: MeshEnv, yaml: string): Promise<void> {
  const r = await env.meshctlInput(yaml, 'apply', '-f', '-');
  expect(r.code, r.stderr).toBe(0);
}

/** Mesh Secrets of mesh `default`, applied through meshctl from their text. */
export async function applySecrets(env: MeshEnv, secrets: Record<string, string>): Promise<void> {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  await applyYaml(env, Object.entries(secrets).map(([name, text]) => `type: Secret\nname: ${name}\nmesh: default\ndata: ${b64(text)}\n`).join('---\n'));
}

export const certsOf = (pem: string): X509Certificate[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));

/** Each certificate of `path` is issued and signed by the next. */
export function expectSignedPath(path: X509Certificate[]): void {
  for (let i = 0; i + 1 < path.length; i++) {
    expect(path[i]!.checkIssued(path[i + 1]!)).toBe(true);
    expect(path[i]!.verify(path[i + 1]!.publicKey)).toBe(true);
  }
}

/** `web-<suffix>` in zone-1 and `backend-<suffix>` in zone-2, both holding a certificate. */
export async function startPair(env: MeshEnv, suffix: string): Promise<[MeshService, MeshService]> {
  const web = await env.startService('zone-1', { name: `web-${suffix}`, service: 'web' });
  const backend = await env.startService('zone-2', { name: `backend-${suffix}`, service: 'backend' });
  await Promise.all([web.handle.ready(20_000), backend.handle.ready(20_000)]);
  return [web, backend];
}

export async function expectCrossZone(web: MeshService, backend: MeshService): Promise<void> {
  expect(await web.call(backend)).toBe('backend@zone-2');
  expect(await backend.call(web)).toBe('web@zone-1');
}

export interface InsightItem {
  name: string;
  zone?: string;
  connected?: boolean;
  mTLS?: { issuedBackend?: string; certificateSerial?: string; lastError?: { message: string } };
}

/** Global names a zone's dataplane (and its insight) `<zone>.<name>`. */
export const nameOnGlobal = (svc: MeshService): string => `${svc.zone}.${svc.name}`;

export async function insightsOnGlobal(env: MeshEnv): Promise<InsightItem[]> {
  const { body } = await env.admin.call<{ items: InsightItem[] }>('GET', '/meshes/default/dataplane-insights');
  return body.items;
}

/** Closes the services and waits until global sees them disconnected, so the next switch is not a rotation step taken too soon. */
export async function retireServices(env: MeshEnv, ...services: MeshService[]): Promise<void> {
  await Promise.all(services.map((s) => s.close()));
  const names = new Set(services.map(nameOnGlobal));
  await eventually(async () => {
    const mine = (await insightsOnGlobal(env)).filter((i) => names.has(i.name));
    expect(mine.map((i) => [i.name, i.connected]).sort()).toEqual([...names].sort().map((n) => [n, false]));
  });
}

export interface CaOutage {
  /** Takes the CA away (seal Vault, disable the ACM PCA). */
  breakCa(): void;
  repairCa(): void;
  /** What the reported failure says (e.g. `sealed`, `DISABLED`). */
  errorText: string;
  /** Checks a service's certificate once it is issued again after the outage. */
  reissued(svc: MeshService): void;
}

/**
 * A CA outage while the pair's short-lived certificates renew. Traffic flows both ways until global
 * shows the issuance failure on a DataplaneInsight (or shortly before the certificates run out: the
 * test then fails, global never showed it), then the CA comes back. No call may fail; the dataplane
 * keeps and reports the certificate it had and is told why; the zone retries with backoff; both are
 * issued again and the error clears.
 */
export async function expectOutageKeepsCertificates(env: MeshEnv, web: MeshService, backend: MeshService, outage: CaOutage): Promise<void> {
  await expectCrossZone(web, backend);
  const before = { web: web.handle.current()!, backend: backend.handle.current()! };
  const validUntil = Math.min(before.web.notAfter.getTime(), before.backend.notAfter.getTime());
  outage.breakCa();

  const ours = (i: InsightItem) => [nameOnGlobal(web), nameOnGlobal(backend)].includes(i.name);
  const failures: string[] = [];
  let calls = 0;
  let seen: { insight: InsightItem; held: MeshService; serial: string; agentError: string | undefined } | undefined;
  while (seen === undefined && Date.now() < validUntil - 3000) {
    for (const [from, to] of [[web, backend], [backend, web]] as const) {
      calls++;
      await from.call(to).catch((err: unknown) => failures.push(String(err)));
    }
    const insight = (await insightsOnGlobal(env)).find((i) => ours(i) && i.mTLS?.lastError !== undefined);
    if (insight) {
      const held = insight.name === nameOnGlobal(web) ? web : backend;
      seen = { insight, held, serial: held.handle.current()!.serial, agentError: held.handle.status().lastError?.message };
    } else {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  outage.repairCa();
  expect(failures).toEqual([]);
  expect(calls).toBeGreaterThan(4);
  expect(seen, 'global showed no issuance failure while the certificates were valid').toBeDefined();
  const { insight, held } = seen!;
  expect(insight.mTLS!.lastError!.message).toContain(outage.errorText);
  expect(insight.zone).toBe(held.zone);
  // The dataplane kept the certificate it had (global reports that one), and was told of the failure.
  expect(seen!.serial).toBe(before[held === web ? 'web' : 'backend'].serial);
  expect(insight.mTLS!.certificateSerial).toBe(seen!.serial);
  expect(seen!.agentError).toContain(outage.errorText);
  // The zone retries with backoff.
  expect(env.zones[held.zone]!.logs.some((l) => l.msg === 'dataplane certificate issuance failed; retrying with backoff' && l.dataplane === held.name)).toBe(true);

  await eventually(async () => {
    expect(web.handle.current()!.serial).not.toBe(before.web.serial);
    expect(backend.handle.current()!.serial).not.toBe(before.backend.serial);
  }, 30_000, 200);
  for (const svc of [web, backend]) outage.reissued(svc);
  await expectCrossZone(web, backend);
  await eventually(async () => {
    const items = (await insightsOnGlobal(env)).filter(ours);
    expect(items).toHaveLength(2);
    for (const i of items) expect(i.mTLS?.lastError).toBeUndefined();
  });
}

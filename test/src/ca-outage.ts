// A CA that goes away while dataplanes renew: what the dataplanes keep, and what global shows.
import { expect } from 'vitest';
import { eventually } from './eventually.js';
import { insightsOnGlobal, nameOnGlobal, type InsightItem } from './insights.js';
import type { MeshEnv, MeshService } from './mesh-env.js';
import { expectCrossZone } from './service-pair.js';
import { serviceRoutes, startTraffic } from './traffic.js';

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
  const traffic = startTraffic(serviceRoutes(web, backend), { pauseMs: 250 });
  let seen: { insight: InsightItem; held: MeshService; serial: string; agentError: string | undefined } | undefined;
  try {
    seen = await eventually(
      async () => {
        const insight = (await insightsOnGlobal(env)).find((i) => ours(i) && i.mTLS?.lastError !== undefined);
        if (!insight) throw new Error('global shows no issuance failure yet');
        const held = insight.name === nameOnGlobal(web) ? web : backend;
        return { insight, held, serial: held.handle.current()!.serial, agentError: held.handle.status().lastError?.message };
      },
      validUntil - 3000 - Date.now(),
      250,
    ).catch(() => undefined);
  } finally {
    await traffic.stop();
  }
  outage.repairCa();
  expect(traffic.failures).toEqual([]);
  expect(traffic.requests).toBeGreaterThan(4);
  expect(seen, 'global showed no issuance failure while the certificates were valid').toBeDefined();
  const { insight, held } = seen!;
  expect(insight.mTLS!.lastError!.message).toContain(outage.errorText);
  expect(insight.zone).toBe(held.zone);
  // The dataplane kept the certificate it had (global reports that one), and was told of the failure.
  expect(seen!.serial).toBe(before[held === web ? 'web' : 'backend'].serial);
  expect(insight.mTLS!.certificateSerial).toBe(seen!.serial);
  expect(seen!.agentError).toContain(outage.errorText);
  // The zone retries with backoff.
  expect(
    env.zones[held.zone]!.logs.some(
      (l) => l.msg === 'dataplane certificate issuance failed; retrying with backoff' && l.dataplane === held.name,
    ),
  ).toBe(true);

  await eventually(
    async () => {
      expect(web.handle.current()!.serial).not.toBe(before.web.serial);
      expect(backend.handle.current()!.serial).not.toBe(before.backend.serial);
    },
    30_000,
    200,
  );
  for (const svc of [web, backend]) outage.reissued(svc);
  await expectCrossZone(web, backend);
  await eventually(async () => {
    const items = (await insightsOnGlobal(env)).filter(ours);
    expect(items).toHaveLength(2);
    for (const i of items) expect(i.mTLS?.lastError).toBeUndefined();
  });
}

// What global reports of the zones' dataplanes (their DataplaneInsights).
import { expect } from 'vitest';
import { eventually } from './eventually.js';
import type { MeshEnv, MeshService } from './mesh-env.js';

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

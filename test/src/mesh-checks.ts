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

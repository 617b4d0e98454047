// Checks on the certificates dataplanes hold: PEM bundles, chains, issuers, and a service's
// certificates over time.
import { X509Certificate } from 'node:crypto';
import { expect } from 'vitest';
import type { MeshService } from './mesh-env.js';

/** Each certificate of a PEM bundle. */
export const certsOf = (pem: string): X509Certificate[] =>
  [...pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)].map((m) => new X509Certificate(m[0]));

/** Each certificate of `path` is issued and signed by the next. */
export function expectSignedPath(path: X509Certificate[]): void {
  for (let i = 0; i + 1 < path.length; i++) {
    expect(path[i]!.checkIssued(path[i + 1]!)).toBe(true);
    expect(path[i]!.verify(path[i + 1]!.publicKey)).toBe(true);
  }
}

/** Whether the leaf of `chainPem` was signed by the root `caPem`. */
export function issuedBy(chainPem: string, caPem: string): boolean {
  const leaf = certsOf(chainPem)[0];
  const ca = certsOf(caPem)[0];
  return leaf !== undefined && ca !== undefined && leaf.checkIssued(ca) && leaf.verify(ca.publicKey);
}

/** Whether the bundle holds the root `caPem`. */
export function bundleHas(bundlePem: string, caPem: string): boolean {
  const fp = certsOf(caPem)[0]?.fingerprint256;
  return certsOf(bundlePem).some((c) => c.fingerprint256 === fp);
}

/** Records every certificate a service receives, and whether the one it replaced was still valid. */
export function watchRotations(service: MeshService): { serials: string[]; lateRotations: string[] } {
  const seen = { serials: [] as string[], lateRotations: [] as string[] };
  const first = service.handle.current();
  if (first) seen.serials.push(first.serial);
  let previous = first;
  service.handle.on('update', (id, change) => {
    if (change !== 'certificate') return;
    const now = Date.now();
    if (previous && previous.notAfter.getTime() <= now) {
      seen.lateRotations.push(
        `${service.name}: ${previous.serial} expired at ${previous.notAfter.toISOString()}, replaced at ${new Date(now).toISOString()}`,
      );
    }
    seen.serials.push(id.serial);
    previous = id;
  });
  return seen;
}

// Issuances per second through the acmpca backend against the in-process ACM-PCA-compatible test
// server with 20 ms added to every answer (moto has no latency switch, and its Python RSA signing
// would measure moto rather than the backend), at the backend's in-flight bound and one at a time.
// Each issuance is IssueCertificate + GetCertificate: two round trips, so one at a time is capped
// near 1000 / (2 * latencyMs) per second; the bound lets several issuances overlap.
// Run: node --import tsx bench/acmpca.ts   (about 15 s; prints a table, exits)
import { pathToFileURL } from 'node:url';
import type { MtlsBackend } from '@meshca/api';
import { createDataSourceReader, type CaBackend, type DataplaneIdentity } from '@meshca/ca';
import { openAcmPcaBackend } from '../libs/ca/src/acmpca/index.js';
import { startAcmPcaServer } from '../test/servers/acmpca/index.js';

export interface AcmPcaBenchResult {
  latencyMs: number;
  /** The backend's in-flight bound during the concurrent run. */
  maxInFlight: number;
  /** Issuances per second with many issuances queued behind the bound. */
  concurrentPerSec: number;
  /** Issuances per second, one at a time. */
  sequentialPerSec: number;
  /** Most requests the server saw at once during the concurrent run (never above maxInFlight). */
  observedMaxInFlight: number;
}

export interface AcmPcaBenchOptions {
  latencyMs?: number;
  maxInFlight?: number;
  /** Length of each measured window. */
  windowMs?: number;
}

async function rate(ca: CaBackend, windowMs: number, workers: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const worker = async (w: number): Promise<void> => {
    while (performance.now() - start < windowMs) {
      const identity: DataplaneIdentity = { mesh: 'default', name: `dp-${w}-${n}`, tags: { 'kuma.io/service': [`svc-${w}`] } };
      await ca.issue({ identity, ttlSeconds: 24 * 3600 });
      n += 1;
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, w) => worker(w)));
  return (n * 1000) / (performance.now() - start);
}

export async function runAcmPcaBench(opts: AcmPcaBenchOptions = {}): Promise<AcmPcaBenchResult> {
  const latencyMs = opts.latencyMs ?? 20;
  const maxInFlight = opts.maxInFlight ?? 4;
  const windowMs = opts.windowMs ?? 5_000;
  const results: Partial<AcmPcaBenchResult> = { latencyMs, maxInFlight };

  for (const mode of ['sequential', 'concurrent'] as const) {
    // A fresh server per run, so its maxInFlight counter belongs to this run only.
    const pca = await startAcmPcaServer({ latencyMs });
    const arn = await pca.createCa();
    const backend: MtlsBackend = {
      name: 'acmpca-bench',
      type: 'acmpca',
      conf: {
        arn,
        auth: {
          awsCredentials: {
            accessKey: { inlineString: pca.credentials.accessKeyId },
            accessKeySecret: { inlineString: pca.credentials.secretAccessKey },
          },
        },
      },
    };
    const ca = await openAcmPcaBackend(
      { mesh: 'default', backend, readDataSource: createDataSourceReader(async () => undefined, 'default') },
      { endpoint: pca.endpoint, maxInFlight },
    );
    try {
      await ca.issue({ identity: { mesh: 'default', name: 'warm', tags: { 'kuma.io/service': ['warm'] } }, ttlSeconds: 3600 });
      if (mode === 'sequential') {
        results.sequentialPerSec = await rate(ca, windowMs, 1);
      } else {
        // More issuances than the bound, as a zone renewing many dataplanes would ask.
        results.concurrentPerSec = await rate(ca, windowMs, maxInFlight * 4);
        results.observedMaxInFlight = pca.stats().maxInFlight;
      }
    } finally {
      await ca.close();
      await pca.stop();
    }
  }
  return results as AcmPcaBenchResult;
}

export function formatAcmPcaBench(r: AcmPcaBenchResult): string {
  const n = (v: number): string => v.toFixed(1).padStart(7);
  return [
    `acmpca issuance (test server, ${r.latencyMs} ms added per request; IssueCertificate + GetCertificate)`,
    `  one at a time                     ${n(r.sequentialPerSec)} /s`,
    `  ${String(r.maxInFlight).padEnd(2)} in flight (queue behind it)    ${n(r.concurrentPerSec)} /s  ${(r.concurrentPerSec / r.sequentialPerSec).toFixed(1)}x`,
    `  server saw at most ${r.observedMaxInFlight} requests at once`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const result = await runAcmPcaBench();
  console.log(formatAcmPcaBench(result));
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

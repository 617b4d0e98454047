// Issuances per second through the vault backend against the in-process Vault-compatible test
// server with 20 ms added to every request, at the backend's concurrency and one at a time.
// Run: node --import tsx bench/vault.ts   (about 20 s; prints a table, exits)
import { pathToFileURL } from 'node:url';
import type { MtlsBackend } from '@meshca/api';
import { createDataSourceReader, type DataplaneIdentity } from '@meshca/ca';
import { DEFAULT_MAX_IN_FLIGHT, openVaultBackend } from '../libs/ca/src/vault/index.js';
import { startVaultServer, type VaultServer } from '../test/servers/vault/index.js';

export interface VaultBenchFigures {
  /** Issuances per second with `concurrency` requests in flight. */
  concurrentPerSec: number;
  /** Issuances per second, one request at a time. */
  sequentialPerSec: number;
  concurrency: number;
}

export interface VaultBenchResult {
  latencyMs: number;
  /** Role with key_type=ec: Vault's key generation is cheap, so latency dominates. */
  ec: VaultBenchFigures;
  /** The seed 001 role (RSA 2048 keys made on the Vault side, in this process). */
  rsa: VaultBenchFigures;
}

export interface VaultBenchOptions {
  latencyMs?: number;
  concurrency?: number;
  /** Length of each of the four measured windows. */
  windowMs?: number;
}

async function post(v: VaultServer, path: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${v.address}/v1/${path}`, {
    method: 'POST',
    headers: { 'X-Vault-Token': v.rootToken, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200 && res.status !== 204) throw new Error(`vault ${path}: ${res.status} ${await res.text()}`);
  return res.status === 200 ? ((await res.json()) as Record<string, unknown>) : {};
}

async function rate(issue: () => Promise<unknown>, concurrency: number, windowMs: number): Promise<number> {
  let n = 0;
  const start = performance.now();
  const worker = async () => {
    while (performance.now() - start < windowMs) {
      await issue();
      n += 1;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (n * 1000) / (performance.now() - start);
}

export async function runVaultBench(o: VaultBenchOptions = {}): Promise<VaultBenchResult> {
  const latencyMs = o.latencyMs ?? 20;
  const concurrency = o.concurrency ?? DEFAULT_MAX_IN_FLIGHT;
  const windowMs = o.windowMs ?? 4000;
  const v = await startVaultServer();
  try {
    await post(v, 'sys/mounts/kmesh-pki-default', { type: 'pki' });
    await post(v, 'sys/mounts/kmesh-pki-default/tune', { max_lease_ttl: '87600h' });
    await post(v, 'kmesh-pki-default/root/generate/internal', { common_name: 'bench', ttl: '87600h' });
    const role = { allowed_uri_sans: 'spiffe://default/*,kuma://*', require_cn: 'false', max_ttl: '720h' };
    await post(v, 'kmesh-pki-default/roles/ec', { ...role, key_type: 'ec', key_bits: '256' });
    await post(v, 'kmesh-pki-default/roles/rsa', role);
    const policy = ['ec', 'rsa'].map((r) => `path "kmesh-pki-default/issue/${r}" { capabilities = ["create", "update"] }`).join('\n');
    await post(v, 'sys/policies/acl/bench', { policy });
    const created = await post(v, 'auth/token/create', { policies: ['bench'] });
    const token = String((created.auth as { client_token: string }).client_token);
    v.setLatency(latencyMs);

    const identity: DataplaneIdentity = { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'], version: ['v1'] } };
    const measure = async (roleName: string): Promise<VaultBenchFigures> => {
      const backend: MtlsBackend = {
        name: 'vault-bench',
        type: 'vault',
        conf: { fromCp: { address: v.address, pki: 'kmesh-pki-default', role: roleName, auth: { token: { inlineString: token } } } },
      };
      const get = async () => undefined;
      const ctx = { mesh: 'default', backend, readDataSource: createDataSourceReader(get, 'default') };
      const ca = await openVaultBackend(ctx, { get }, { maxInFlight: concurrency });
      try {
        const issue = () => ca.issue({ identity, ttlSeconds: 24 * 3600 });
        for (let i = 0; i < 4; i++) await issue(); // warm up: lookup-self, connections
        const sequentialPerSec = await rate(issue, 1, windowMs);
        // More callers than slots: the backend queues what is above its bound.
        const concurrentPerSec = await rate(issue, concurrency * 4, windowMs);
        return { concurrentPerSec, sequentialPerSec, concurrency };
      } finally {
        await ca.close();
      }
    };
    return { latencyMs, ec: await measure('ec'), rsa: await measure('rsa') };
  } finally {
    await v.stop();
  }
}

export function formatVaultBench(r: VaultBenchResult): string {
  const n = (x: number): string => x.toFixed(1).padStart(7);
  const row = (label: string, f: VaultBenchFigures): string[] => [
    `  ${label}, ${f.concurrency} in flight  ${n(f.concurrentPerSec)} /s`,
    `  ${label}, one at a time  ${n(f.sequentialPerSec)} /s   (x${(f.concurrentPerSec / f.sequentialPerSec).toFixed(1)})`,
  ];
  return [
    `vault backend issuance, test server with +${r.latencyMs} ms per request (server in this process)`,
    ...row('EC role ', r.ec),
    ...row('RSA role', r.rsa),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const started = performance.now();
  const result = await runVaultBench();
  console.log(formatVaultBench(result));
  console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)`);
}

// Dataplane token verification: the zone's verifier (node:crypto, on the calling thread) next to
// jose's jwtVerify (WebCrypto) on the same tokens, in the same run. A zone verifies one token per
// dataplane connection, so this is on the path of every cold start.
// Run: node --import tsx bench/tokens.ts [--tokens 5000] [--json]
import { pathToFileURL } from 'node:url';
import { importJWK, jwtVerify } from 'jose';
import { generateSigningKey, createTokenIssuer } from '@meshca/tokens';

export interface TokenBenchResult {
  tokens: number;
  /** Verifications per second through createTokenIssuer().verify (signature, claims, kind). */
  meshcaPerSec: number;
  /** jose jwtVerify with the public key imported once (signature and claims only). */
  josePerSec: number;
}

export async function runTokenBench(opts: { tokens?: number } = {}): Promise<TokenBenchResult> {
  const n = opts.tokens ?? 5000;
  const key = await generateSigningKey();
  const issuer = createTokenIssuer({ keys: [key] });
  const tokens: string[] = [];
  for (let i = 0; i < n; i++) {
    tokens.push(
      await issuer.issueDataplaneToken({ mesh: 'default', name: `dp-${i}`, tags: { 'kuma.io/service': `svc-${i % 100}` }, validFor: 3600 }),
    );
  }
  const { d: _private, ...pub } = key.jwk;
  const publicKey = await importJWK(pub, 'Ed25519');
  const rate = async (verifyOne: (t: string) => Promise<boolean>): Promise<number> => {
    for (const t of tokens.slice(0, 200)) await verifyOne(t); // warm-up
    const start = performance.now();
    for (const t of tokens) if (!(await verifyOne(t))) throw new Error('a valid token was refused');
    return Math.round((n / (performance.now() - start)) * 1000);
  };
  const josePerSec = await rate(
    async (t) => (await jwtVerify(t, publicKey, { issuer: 'meshca', algorithms: ['Ed25519'] })).payload.kind === 'dataplane',
  );
  const meshcaPerSec = await rate(async (t) => (await issuer.verify(t, 'dataplane')).ok);
  return { tokens: n, meshcaPerSec, josePerSec };
}

export function formatTokenBench(r: TokenBenchResult): string {
  return [
    `dataplane token verification, ${r.tokens} tokens, one at a time`,
    `  meshca (node:crypto)   ${r.meshcaPerSec}/s`,
    `  jose jwtVerify (peer)  ${r.josePerSec}/s   (meshca ${(r.meshcaPerSec / r.josePerSec).toFixed(2)}x)`,
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--tokens');
  const r = await runTokenBench(i >= 0 ? { tokens: Number(process.argv[i + 1]) } : {});
  process.stdout.write(process.argv.includes('--json') ? `${JSON.stringify(r)}\n` : `${formatTokenBench(r)}\n`);
}

// What a DataplaneInsight says of the certificate a dataplane holds (for the GUI and
// `get dataplane-insights`): its names, SANs and validity, and the CA certificates it chains to.
// The leaf is read from DER in a few microseconds; a backend's roots are read once per roots list.
import { summarizeChain, type CertificateSummary } from '@meshca/pki';

/** One CA certificate of the chain, as the insight shows it. */
export interface ChainEntry {
  subject: string;
  issuer: string;
  notAfter: string;
  sha256: string;
}

export interface CertificateFacts {
  subject: string;
  issuer: string;
  notBefore: string;
  uriSans: string[];
  dnsSans?: string[];
  sha256: string;
  /** The intermediates that came with it, then the backend's roots: issuer first. */
  chain: ChainEntry[];
}

const entry = (c: CertificateSummary): ChainEntry => ({ subject: c.subject, issuer: c.issuer, notAfter: c.notAfter, sha256: c.sha256 });
const rootsRead = new WeakMap<readonly string[], ChainEntry[]>();

function rootEntries(roots: readonly string[]): ChainEntry[] {
  let out = rootsRead.get(roots);
  if (out === undefined) {
    out = roots.flatMap((pem) => summarizeChain(pem).map(entry));
    rootsRead.set(roots, out);
  }
  return out;
}

// The chain above the leaf is the same for every certificate of a backend: one array per roots
// list and intermediates, shared by every dataplane holding such a certificate (10,000 of them
// would otherwise hold 10,000 copies).
const chainsByRoots = new WeakMap<readonly string[], Map<string, ChainEntry[]>>();

function chainOf(intermediates: CertificateSummary[], roots: readonly string[]): ChainEntry[] {
  let byIntermediates = chainsByRoots.get(roots);
  if (byIntermediates === undefined) chainsByRoots.set(roots, (byIntermediates = new Map()));
  const key = intermediates.map((c) => c.sha256).join(',');
  let chain = byIntermediates.get(key);
  if (chain === undefined) {
    chain = intermediates.map(entry);
    const seen = new Set(chain.map((c) => c.sha256));
    for (const r of rootEntries(roots)) if (!seen.has(r.sha256)) chain.push(r);
    if (byIntermediates.size > 16) byIntermediates.clear(); // a CA that changes intermediates often: no growth
    byIntermediates.set(key, chain);
  }
  return chain;
}

/** The facts of an issued chain (leaf first), or undefined when it cannot be read. */
export function certificateFacts(certChainPem: string, roots: readonly string[]): CertificateFacts | undefined {
  try {
    const [leaf, ...rest] = summarizeChain(certChainPem);
    if (leaf === undefined) return undefined;
    const chain = chainOf(rest, roots);
    return {
      subject: leaf.subject,
      // The issuer's name as its certificate in the chain holds it: one string for all.
      issuer: chain[0]?.subject === leaf.issuer ? chain[0].subject : leaf.issuer,
      notBefore: leaf.notBefore,
      uriSans: leaf.uriSans,
      ...(leaf.dnsSans.length > 0 ? { dnsSans: leaf.dnsSans } : {}),
      sha256: leaf.sha256,
      chain,
    };
  } catch {
    // A certificate the DER reader does not follow still serves; the insight just says less.
    return undefined;
  }
}

/** The first CA certificate of a backend's roots: what its certificates chain to. */
export function caOf(roots: readonly string[] | undefined): { subject: string; notAfter: string } | undefined {
  if (roots === undefined) return undefined;
  try {
    const first = rootEntries(roots)[0];
    return first === undefined ? undefined : { subject: first.subject, notAfter: first.notAfter };
  } catch {
    return undefined;
  }
}

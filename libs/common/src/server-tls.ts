// The certificate a control plane serves when the operator gave none: a small CA of its own, kept
// in the data dir, and a server certificate from it for every name the host is reached by. When a
// name is added (--tls-san, a new interface), the server certificate is issued again from the same
// CA, so the CA file clients hold (--global-ca-file, --ca-file) stays valid.
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { createLeafSigner, generateCa, generateP256Key } from '@meshca/pki';

export interface ServerTls {
  certPem: string;
  keyPem: string;
  /** The CA that signed certPem: what clients pass as their trusted CA file. */
  caPem: string;
  caFile: string;
  /** Names (DNS and IP) the certificate covers. */
  names: string[];
  /** What happened at this start, for the log: created, re-issued for new names, or kept. */
  event?: { kind: 'created' } | { kind: 'reissued'; added: string[] } | { kind: 'kept-without-ca-key'; missing: string[] };
}

export interface ServerTlsOptions {
  /** Directory holding `<name>-ca.pem`, `<name>-ca.key`, `<name>.pem`, `<name>.key` (created on first start). */
  dir: string;
  name: string;
  /** DNS names and IP addresses the certificate must be valid for. */
  hosts: string[];
}

const TEN_YEARS_S = 10 * 365 * 24 * 3600;
/** A server certificate closer than this to its end is issued again at start. */
const RENEW_BEFORE_MS = 30 * 24 * 3600_000;

/** `DNS:a, IP Address:1.2.3.4` (Node's subjectaltname) as plain names. */
export function certificateNames(certPem: string): string[] {
  const san = new X509Certificate(certPem).subjectAltName ?? '';
  return san.split(', ').flatMap((x) => {
    const m = /^(DNS|IP Address):(.+)$/.exec(x);
    return m?.[2] !== undefined ? [normal(m[2])] : [];
  });
}

function covers(names: readonly string[], wanted: readonly string[]): string[] {
  const have = new Set(names.map(normal));
  return wanted.filter((w) => !have.has(normal(w)));
}

/** IPv6 spelled one way (`::1`, not `0:0:...:1`), host names in lower case. */
function normal(name: string): string {
  if (isIP(name) === 6) return new URL(`http://[${name}]/`).hostname.slice(1, -1);
  return name.toLowerCase();
}

function issueServerCert(ca: { certPem: string; keyPem: string }, names: readonly string[]): { certPem: string; keyPem: string } {
  const key = generateP256Key();
  const now = Date.now();
  const certPem = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem }).sign({
    publicKey: key.spkiDer,
    uriSans: [],
    dnsSans: names.filter((n) => isIP(n) === 0),
    ipSans: names.filter((n) => isIP(n) !== 0),
    commonName: names[0] ?? 'localhost',
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + TEN_YEARS_S * 1000),
  });
  return { certPem, keyPem: key.keyPem };
}

/** Writes through a temporary file, so a crash never leaves half a key. */
async function put(file: string, text: string, mode: number): Promise<void> {
  await writeFile(`${file}.tmp`, text, { mode });
  await rename(`${file}.tmp`, file);
}

async function readIf(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Loads the server certificate from `dir`, issuing it again from the same CA when it lacks one of
 * `hosts` (or nears its end); creates the CA and the certificate on first start.
 */
export async function loadOrCreateServerTls(opts: ServerTlsOptions): Promise<ServerTls> {
  const files = {
    ca: join(opts.dir, `${opts.name}-ca.pem`),
    caKey: join(opts.dir, `${opts.name}-ca.key`),
    cert: join(opts.dir, `${opts.name}.pem`),
    key: join(opts.dir, `${opts.name}.key`),
  };
  const [caPem, caKeyPem, certPem, keyPem] = await Promise.all([
    readIf(files.ca),
    readIf(files.caKey),
    readIf(files.cert),
    readIf(files.key),
  ]);
  const wanted = [...new Set(opts.hosts.map(normal))];
  if (caPem !== undefined && certPem !== undefined && keyPem !== undefined) {
    const names = certificateNames(certPem);
    const missing = covers(names, wanted);
    const ending = Date.parse(new X509Certificate(certPem).validTo) - Date.now() < RENEW_BEFORE_MS;
    if (missing.length === 0 && !ending) return { caPem, certPem, keyPem, caFile: files.ca, names };
    if (caKeyPem === undefined) {
      // Made before the CA key was kept: a new CA would break every client's CA file, so the
      // certificate stays and the log says how to get the names (see event).
      return { caPem, certPem, keyPem, caFile: files.ca, names, event: { kind: 'kept-without-ca-key', missing } };
    }
    const all = [...new Set([...wanted, ...names.map(normal)])];
    const made = issueServerCert({ certPem: caPem, keyPem: caKeyPem }, all);
    await put(files.key, made.keyPem, 0o600);
    await put(files.cert, made.certPem, 0o644);
    return { caPem, ...made, caFile: files.ca, names: all, event: { kind: 'reissued', added: missing } };
  }
  const ca = generateCa({ commonName: `meshca ${opts.name} CA`, keyType: 'ecdsa-p256', validitySeconds: TEN_YEARS_S });
  const made = issueServerCert(ca, wanted);
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  await put(files.caKey, ca.keyPem, 0o600);
  await put(files.key, made.keyPem, 0o600);
  await put(files.cert, made.certPem, 0o644);
  await put(files.ca, ca.certPem, 0o644);
  return { caPem: ca.certPem, ...made, caFile: files.ca, names: wanted, event: { kind: 'created' } };
}

/** A throwaway CA and server certificate for `hosts` (tests and benchmarks). */
export async function createSelfSignedServerTls(name: string, hosts: string[]): Promise<Omit<ServerTls, 'caFile' | 'names' | 'event'>> {
  const ca = generateCa({ commonName: `meshca ${name} CA`, keyType: 'ecdsa-p256', validitySeconds: TEN_YEARS_S });
  return { caPem: ca.certPem, ...issueServerCert(ca, hosts.map(normal)) };
}

import type { webcrypto } from 'node:crypto';
import { badRequest, notFound } from '../errors.js';
import { goDuration } from '../duration.js';
import { type Body, bool, commaList, duration, has, int, str } from '../params.js';
import type { Request, Result, Route } from '../route.js';
import {
  type Role,
  extKeyUsageOids,
  firstRefusedName,
  isHostname,
  keyUsageBits,
  refusedCommonName,
  roleFromBody,
  roleKeySpec,
  roleToData,
  signIntermediateRole,
  uriAllowed,
} from './roles.js';
import {
  type KeySpec,
  buildCertificate,
  buildCsr,
  commonNameOf,
  generateKeys,
  keySpecOf,
  parseCertificate,
  parseCsr,
  pemOf,
  privateKeyPem,
  sansOf,
  serialColons,
  spkiFingerprint,
  splitPemBlocks,
  type x509,
} from './x509.js';
// WebCrypto types from Node's own definitions (the DOM lib is not loaded).
type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

export interface Issuer {
  cert: x509.X509Certificate;
  pem: string;
  privateKey: CryptoKey | undefined;
  /** Parents of this issuer, nearest first, as PEM. */
  parents: string[];
}

export interface PkiState {
  issuer: Issuer | undefined;
  pendingKey: CryptoKeyPair | undefined;
  roles: Map<string, Role>;
}

/** The mount's effective lease limits (its tune values, or the system's 768h). */
export interface MountTtl {
  defaultTtl(): number;
  maxTtl(): number;
}

export function newPkiState(): PkiState {
  return { issuer: undefined, pendingKey: undefined, roles: new Map() };
}

const CA_KEY_USAGE = 32 | 64; // certSign | cRLSign

function keySpecFromBody(body: Body): KeySpec {
  const type = str(body, 'key_type', 'rsa');
  if (type !== 'rsa' && type !== 'ec') throw badRequest(`unknown key type ${type}`);
  const bits = int(body, 'key_bits', 0) || (type === 'ec' ? 256 : 2048);
  return { type, bits };
}

function fullChain(issuer: Issuer): string[] {
  return [issuer.pem, ...issuer.parents];
}

function requireIssuer(state: PkiState): Issuer {
  const issuer = state.issuer;
  if (!issuer?.privateKey) {
    throw badRequest(
      'could not fetch the CA certificate (was one set?): unable to fetch corresponding key for issuer default; unable to use this issuer for signing',
    );
  }
  return issuer;
}

/** getCertificateNotAfter: request ttl, else role ttl, else mount default; capped at max with a warning. */
function notAfterFor(
  reqTtl: number,
  role: Pick<Role, 'ttl' | 'maxTtl'>,
  mount: MountTtl,
  caNotAfter: Date | undefined,
  permitBeyondCa: boolean,
) {
  const warnings: string[] = [];
  let ttl = reqTtl || role.ttl || mount.defaultTtl();
  const maxTtl = role.maxTtl || mount.maxTtl();
  if (ttl > maxTtl) {
    warnings.push(
      `TTL ${JSON.stringify(goDuration(ttl))} is longer than permitted maxTTL ${JSON.stringify(goDuration(maxTtl))}, so maxTTL is being used`,
    );
    ttl = maxTtl;
  }
  const notAfter = new Date(Date.now() + ttl * 1000);
  if (caNotAfter && !permitBeyondCa && notAfter > caNotAfter) {
    throw badRequest(
      `cannot satisfy request, as TTL would result in notAfter of ${rfc3339Nano(notAfter)} that is beyond the expiration of the CA certificate at ${rfc3339Nano(caNotAfter)}`,
    );
  }
  return { notAfter, warnings };
}

function rfc3339Nano(d: Date): string {
  return d.toISOString().replace('.000Z', 'Z');
}

function validUris(uris: string[]): void {
  for (const u of uris) {
    if (!URL.canParse(u)) throw badRequest(`the provided URI Subject Alternative Name ${JSON.stringify(u)} is not a valid URI`);
  }
}

interface Subject {
  cn: string;
  dns: string[];
  uris: string[];
}

/** generateCreationBundle's checks, in Vault's order. */
function subjectFor(role: Role, body: Body, csr: { cn: string; dns: string[]; uris: string[] } | undefined): Subject {
  let cn = csr && role.useCsrCommonName ? csr.cn : '';
  if (cn === '') {
    cn = str(body, 'common_name');
    if (cn === '' && role.requireCn) {
      throw badRequest(
        'the common_name field is required, or must be provided in a CSR with "use_csr_common_name" set to true, unless "require_cn" is set to false',
      );
    }
  }
  const dns: string[] = csr && role.useCsrSans ? [...csr.dns] : [];
  const emails: string[] = [];
  if (cn !== '' && !bool(body, 'exclude_cn_from_sans', false)) {
    if (cn.includes('@')) emails.push(cn);
    else if (isHostname(cn)) dns.push(cn);
  }
  if (!csr || !role.useCsrSans) {
    for (const alt of commaList(body, 'alt_names')) {
      if (alt.includes('@')) emails.push(alt);
      else if (isHostname(alt)) dns.push(alt);
    }
  }
  if (cn !== '' && refusedCommonName(role, cn) !== '') throw badRequest(`common name ${cn} not allowed by this role`);
  const badDns = firstRefusedName(role, dns);
  if (badDns) throw badRequest(`subject alternate name ${badDns} not allowed by this role`);
  const badEmail = firstRefusedName(role, emails);
  if (badEmail) throw badRequest(`email address ${badEmail} not allowed by this role`);

  let uris: string[] = [];
  if (csr && role.useCsrSans) {
    if (csr.uris.length > 0) {
      if (role.allowedUriSans.length === 0)
        throw badRequest('URI Subject Alternative Names are not allowed in this role, but were provided via CSR');
      if (!csr.uris.every((u) => uriAllowed(role, u)))
        throw badRequest('URI Subject Alternative Names were provided via CSR which are not valid for this role');
      uris = csr.uris;
    }
  } else {
    const requested = commaList(body, 'uri_sans');
    if (requested.length > 0) {
      if (role.allowedUriSans.length === 0)
        throw badRequest('URI Subject Alternative Names are not allowed in this role, but were provided via the API');
      for (const u of requested) {
        if (!uriAllowed(role, u))
          throw badRequest('URI Subject Alternative Names were provided via the API which are not valid for this role');
      }
      validUris(requested);
      uris = requested;
    }
  }
  return { cn, dns: [...new Set(dns)], uris };
}

async function csrFromBody(body: Body) {
  const text = str(body, 'csr');
  if (text === '') throw badRequest('"csr" is empty');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = parseCsr(text);
  } catch {
    throw badRequest('certificate request could not be parsed');
  }
  if (!(await csr.verify())) throw badRequest('request signature invalid');
  const sans = sansOf(csr);
  return { csr, cn: commonNameOf(csr.subjectName), dns: sans.dns, uris: sans.uris };
}

function formatOf(body: Body, allowed: string[]): string {
  const format = str(body, 'format', 'pem');
  if (!allowed.includes(format)) throw badRequest(`the "format" path parameter must be "pem", "der", or "pem_bundle"`);
  if (format === 'der') throw badRequest('format "der" is not supported by this test server');
  return format;
}

// ---- handlers

async function generateRoot(state: PkiState, mount: MountTtl, req: Request, exported: boolean): Promise<Result> {
  const body = req.body;
  const format = formatOf(body, ['pem', 'pem_bundle', 'der']);
  const keys = await generateKeys(keySpecFromBody(body));
  const cn = str(body, 'common_name');
  const uris = commaList(body, 'uri_sans');
  validUris(uris);
  const { notAfter, warnings } = notAfterFor(duration(body, 'ttl'), { ttl: 0, maxTtl: 0 }, mount, undefined, true);
  const cert = await buildCertificate(
    {
      commonName: cn,
      dnsNames: cn && isHostname(cn) && !bool(body, 'exclude_cn_from_sans', false) ? [cn] : [],
      uris,
      notAfter,
      isCa: true,
      ...(has(body, 'max_path_length') && int(body, 'max_path_length', -1) >= 0 ? { maxPathLength: int(body, 'max_path_length', -1) } : {}),
      keyUsage: CA_KEY_USAGE,
      extKeyUsage: [],
    },
    keys.publicKey,
    { cert: null, privateKey: keys.privateKey },
  );
  const pem = pemOf(cert);
  const hadIssuer = state.issuer !== undefined;
  state.issuer = { cert, pem, privateKey: keys.privateKey, parents: [] };
  const data: Record<string, unknown> = {
    certificate: pem,
    issuing_ca: pem,
    expiration: Math.floor(cert.notAfter.getTime() / 1000),
    serial_number: serialColons(cert.serialNumber),
    issuer_id: 'default',
    issuer_name: '',
    key_id: 'default',
    key_name: '',
  };
  if (exported) {
    const key = privateKeyPem(keys.privateKey, str(body, 'private_key_format', 'der'));
    data.private_key = key.pem;
    data.private_key_type = key.type;
    if (format === 'pem_bundle') data.certificate = `${key.pem}\n${pem}`;
  }
  if (hadIssuer) warnings.push('This mount already had an issuer; this test server keeps only the newest one as default.');
  return { data, warnings };
}

async function generateIntermediate(state: PkiState, req: Request, exported: boolean): Promise<Result> {
  const body = req.body;
  formatOf(body, ['pem', 'pem_bundle', 'der']);
  const keys = await generateKeys(keySpecFromBody(body));
  const uris = commaList(body, 'uri_sans');
  validUris(uris);
  const csr = await buildCsr(str(body, 'common_name'), uris, keys);
  state.pendingKey = keys;
  const data: Record<string, unknown> = { csr: pemOf(csr), key_id: 'pending' };
  if (exported) {
    const key = privateKeyPem(keys.privateKey, str(body, 'private_key_format', 'der'));
    data.private_key = key.pem;
    data.private_key_type = key.type;
  }
  return { data };
}

async function signIntermediate(state: PkiState, mount: MountTtl, req: Request): Promise<Result> {
  const body = req.body;
  const format = formatOf(body, ['pem', 'pem_bundle', 'der']);
  const issuer = requireIssuer(state);
  const parsed = await csrFromBody(body);
  const cnGiven = str(body, 'common_name') !== '';
  const role = signIntermediateRole(duration(body, 'ttl'), cnGiven);
  const useCsrValues = bool(body, 'use_csr_values', false);
  const subject = subjectFor({ ...role, useCsrSans: useCsrValues }, body, parsed);
  // Intermediates may outlive the signing CA (Vault permits and only warns).
  const { notAfter, warnings } = notAfterFor(role.ttl, { ttl: 0, maxTtl: 0 }, mount, undefined, true);
  const publicKey = await parsed.csr.publicKey.export();
  const cert = await buildCertificate(
    {
      commonName: subject.cn,
      dnsNames: subject.dns,
      uris: subject.uris,
      notAfter,
      isCa: true,
      ...(has(body, 'max_path_length') && int(body, 'max_path_length', -1) >= 0 ? { maxPathLength: int(body, 'max_path_length', -1) } : {}),
      keyUsage: CA_KEY_USAGE,
      extKeyUsage: [],
    },
    publicKey,
    { cert: issuer.cert, privateKey: issuer.privateKey as CryptoKey },
  );
  if (cert.notAfter > issuer.cert.notAfter) {
    warnings.push(
      "The expiration time for the signed certificate is after the CA's expiration time. If the new certificate is not treated as a root, validation paths with the certificate past the issuing CA's expiration time will fail.",
    );
  }
  const pem = pemOf(cert);
  const chain = [pem, ...fullChain(issuer)];
  return {
    data: {
      certificate: format === 'pem_bundle' ? chain.join('\n') : pem,
      issuing_ca: issuer.pem,
      ca_chain: chain,
      expiration: Math.floor(cert.notAfter.getTime() / 1000),
      serial_number: serialColons(cert.serialNumber),
    },
    warnings,
  };
}

async function setSigned(state: PkiState, req: Request): Promise<Result> {
  const text = str(req.body, 'certificate');
  const blocks = splitPemBlocks(text);
  if (blocks.length === 0) throw badRequest('no data found in PEM block');
  const pending = state.pendingKey;
  if (!pending) throw badRequest('no pending key found; generate an intermediate CSR first (intermediate/generate/internal)');
  const pendingFp = await spkiFingerprint(pending.publicKey);
  const seen = new Set<string>();
  let mine: x509.X509Certificate | undefined;
  const parents: x509.X509Certificate[] = [];
  for (const block of blocks) {
    const cert = parseCertificate(block);
    const thumb = Buffer.from(cert.rawData).toString('hex');
    if (seen.has(thumb)) continue; // the 001_* recipe appends the root twice
    seen.add(thumb);
    if (!mine && (await spkiFingerprint(cert.publicKey)) === pendingFp) mine = cert;
    else parents.push(cert);
  }
  if (!mine) throw badRequest('none of the provided certificates matches the pending private key of this mount');
  // Order parents from the intermediate upwards.
  const ordered: x509.X509Certificate[] = [];
  let current: x509.X509Certificate = mine;
  for (;;) {
    const parent = parents.find((p) => !ordered.includes(p) && p !== current && p.subject === current.issuer);
    if (!parent || parent === current) break;
    ordered.push(parent);
    if (parent.subject === parent.issuer) break;
    current = parent;
  }
  const rest = parents.filter((p) => !ordered.includes(p));
  state.issuer = { cert: mine, pem: pemOf(mine), privateKey: pending.privateKey, parents: [...ordered, ...rest].map(pemOf) };
  state.pendingKey = undefined;
  return {
    data: {
      imported_issuers: ['default', ...parents.map((_, i) => `imported-${i}`)],
      imported_keys: [],
      mapping: { default: 'pending' },
      existing_issuers: [],
      existing_keys: [],
    },
  };
}

async function issueOrSign(state: PkiState, mount: MountTtl, req: Request, role: Role, withCsr: boolean): Promise<Result> {
  const body = req.body;
  const format = formatOf(body, ['pem', 'pem_bundle', 'der']);
  const issuer = requireIssuer(state);
  const parsed = withCsr ? await csrFromBody(body) : undefined;
  const subject = subjectFor(role, body, parsed);
  const { notAfter, warnings } = notAfterFor(duration(body, 'ttl'), role, mount, issuer.cert.notAfter, false);
  let publicKey: CryptoKey;
  let privateKey: CryptoKey | undefined;
  if (parsed) {
    publicKey = await parsed.csr.publicKey.export();
    const spec = keySpecOf(publicKey);
    if (role.keyType !== 'any' && (spec.type !== role.keyType || spec.bits < role.keyBits)) {
      throw badRequest(
        `role requires keys of type ${role.keyType} with at least ${role.keyBits} bits; the CSR has a ${spec.type} key of ${spec.bits} bits`,
      );
    }
  } else {
    const keys = await generateKeys(roleKeySpec(role));
    publicKey = keys.publicKey;
    privateKey = keys.privateKey;
  }
  const cert = await buildCertificate(
    {
      commonName: subject.cn,
      dnsNames: subject.dns,
      uris: subject.uris,
      notAfter,
      isCa: false,
      keyUsage: keyUsageBits(role.keyUsage),
      extKeyUsage: extKeyUsageOids(role),
      basicConstraintsForLeaf: role.basicConstraintsValidForNonCa,
    },
    publicKey,
    { cert: issuer.cert, privateKey: issuer.privateKey as CryptoKey },
  );
  const pem = pemOf(cert);
  const chain = fullChain(issuer);
  const data: Record<string, unknown> = {
    certificate: format === 'pem_bundle' ? [pem, ...chain].join('\n') : pem,
    issuing_ca: issuer.pem,
    ca_chain: chain,
    serial_number: serialColons(cert.serialNumber),
    not_before: Math.floor(cert.notBefore.getTime() / 1000),
    expiration: Math.floor(cert.notAfter.getTime() / 1000),
  };
  if (privateKey) {
    const key = privateKeyPem(privateKey, str(body, 'private_key_format', 'der'));
    data.private_key = key.pem;
    data.private_key_type = key.type;
  }
  return { data, warnings };
}

function requireRole(state: PkiState, name: string): Role {
  const role = state.roles.get(name);
  if (!role) throw badRequest(`unknown role: ${name}`);
  return role;
}

function rawCa(state: PkiState, chain: boolean, contentType: string): Result {
  const issuer = state.issuer;
  if (!issuer) return { raw: { contentType, body: '' }, status: 204 };
  return { raw: { contentType, body: chain ? fullChain(issuer).join('\n') : issuer.pem } };
}

/** Routes of one PKI mount; `sub` is the path below the mount. */
export function pkiRoute(state: PkiState, mount: MountTtl, sub: string): Route | undefined {
  const roleMatch = /^roles\/([^/]+)$/.exec(sub);
  if (roleMatch) {
    const name = roleMatch[1] ?? '';
    return {
      exists: () => state.roles.has(name),
      read: () => {
        const role = state.roles.get(name);
        if (!role) throw notFound();
        return { data: roleToData(role) };
      },
      write: (req) => {
        const role = roleFromBody(name, req.body, mount.maxTtl());
        state.roles.set(name, role);
        return { data: roleToData(role) };
      },
      delete: () => {
        state.roles.delete(name);
        return undefined;
      },
    };
  }
  if (sub === 'roles' || sub === 'roles/') {
    return { list: () => (state.roles.size ? { data: { keys: [...state.roles.keys()].sort() } } : undefined) };
  }
  const issue = /^(issue|sign)\/([^/]+)$/.exec(sub);
  if (issue) {
    return { write: (req) => issueOrSign(state, mount, req, requireRole(state, issue[2] ?? ''), issue[1] === 'sign') };
  }
  switch (sub) {
    case 'root/generate/internal':
    case 'root/generate/exported':
      return { write: (req) => generateRoot(state, mount, req, sub.endsWith('exported')) };
    case 'intermediate/generate/internal':
    case 'intermediate/generate/exported':
      return { write: (req) => generateIntermediate(state, req, sub.endsWith('exported')) };
    case 'root/sign-intermediate':
      return { write: (req) => signIntermediate(state, mount, req) };
    case 'intermediate/set-signed':
      return { write: (req) => setSigned(state, req) };
    case 'root':
      return {
        delete: () => {
          state.issuer = undefined;
          return undefined;
        },
      };
    case 'ca/pem':
      return { unauthenticated: true, read: () => rawCa(state, false, 'application/pem-certificate-chain') };
    case 'ca_chain':
      // Vault really labels this PEM chain application/pkix-cert.
      return { unauthenticated: true, read: () => rawCa(state, true, 'application/pkix-cert') };
    case 'cert/ca':
    case 'cert/ca_chain':
      return {
        unauthenticated: true,
        read: () => {
          const issuer = state.issuer;
          if (!issuer) throw badRequest('no default issuer currently configured');
          const chain = fullChain(issuer).join('\n');
          return {
            data: {
              certificate: sub === 'cert/ca' ? issuer.pem : chain,
              ...(sub === 'cert/ca_chain' ? { ca_chain: chain } : {}),
              revocation_time: 0,
              revocation_time_rfc3339: '',
            },
          };
        },
      };
    default:
      return undefined;
  }
}

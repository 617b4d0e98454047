import { badRequest } from '../errors.js';
import { glob } from '../glob.js';
import { type Body, bool, commaList, duration, has, int, str } from '../params.js';
import type { KeySpec } from './x509.js';

export interface Role {
  name: string;
  ttl: number;
  maxTtl: number;
  allowLocalhost: boolean;
  allowedDomains: string[];
  allowBareDomains: boolean;
  allowSubdomains: boolean;
  allowGlobDomains: boolean;
  allowAnyName: boolean;
  enforceHostnames: boolean;
  allowIpSans: boolean;
  allowedUriSans: string[];
  serverFlag: boolean;
  clientFlag: boolean;
  codeSigningFlag: boolean;
  emailProtectionFlag: boolean;
  keyType: 'rsa' | 'ec' | 'any';
  keyBits: number;
  keyUsage: string[];
  extKeyUsage: string[];
  useCsrCommonName: boolean;
  useCsrSans: boolean;
  requireCn: boolean;
  basicConstraintsValidForNonCa: boolean;
  noStore: boolean;
  notBeforeDuration: number;
  cnValidations: string[];
}

const DEFAULT_KEY_USAGE = ['DigitalSignature', 'KeyAgreement', 'KeyEncipherment'];

function defaultBits(type: string, bits: number): number {
  if (bits !== 0) return bits;
  return type === 'ec' ? 256 : type === 'rsa' ? 2048 : 0;
}

function validateKey(type: string, bits: number): void {
  if (type === 'rsa' && ![2048, 3072, 4096, 8192].includes(bits)) throw badRequest(`unsupported bit length for RSA key: ${bits}`);
  if (type === 'ec' && ![224, 256, 384, 521].includes(bits)) throw badRequest(`unsupported bit length for EC key: ${bits}`);
  if (!['rsa', 'ec', 'any'].includes(type)) throw badRequest(`unknown key type ${type}`);
}

/** pathRoleCreate: a write replaces the role, missing fields take Vault's defaults. */
export function roleFromBody(name: string, body: Body, mountMaxTtl: number): Role {
  const keyType = str(body, 'key_type', 'rsa');
  const keyBits = defaultBits(keyType, int(body, 'key_bits', 0));
  validateKey(keyType, keyBits);
  const role: Role = {
    name,
    ttl: duration(body, 'ttl'),
    maxTtl: duration(body, 'max_ttl'),
    allowLocalhost: bool(body, 'allow_localhost', true),
    allowedDomains: commaList(body, 'allowed_domains'),
    allowBareDomains: bool(body, 'allow_bare_domains', false),
    allowSubdomains: bool(body, 'allow_subdomains', false),
    allowGlobDomains: bool(body, 'allow_glob_domains', false),
    allowAnyName: bool(body, 'allow_any_name', false),
    enforceHostnames: bool(body, 'enforce_hostnames', true),
    allowIpSans: bool(body, 'allow_ip_sans', true),
    allowedUriSans: commaList(body, 'allowed_uri_sans'),
    serverFlag: bool(body, 'server_flag', true),
    clientFlag: bool(body, 'client_flag', true),
    codeSigningFlag: bool(body, 'code_signing_flag', false),
    emailProtectionFlag: bool(body, 'email_protection_flag', false),
    keyType: keyType as Role['keyType'],
    keyBits,
    keyUsage: has(body, 'key_usage') ? commaList(body, 'key_usage') : DEFAULT_KEY_USAGE,
    extKeyUsage: commaList(body, 'ext_key_usage'),
    useCsrCommonName: bool(body, 'use_csr_common_name', true),
    useCsrSans: bool(body, 'use_csr_sans', true),
    requireCn: bool(body, 'require_cn', true),
    basicConstraintsValidForNonCa: bool(body, 'basic_constraints_valid_for_non_ca', false),
    noStore: bool(body, 'no_store', false),
    notBeforeDuration: has(body, 'not_before_duration') ? duration(body, 'not_before_duration') : 30,
    cnValidations: has(body, 'cn_validations') ? commaList(body, 'cn_validations') : ['email', 'hostname'],
  };
  if (role.maxTtl > 0 && role.ttl > role.maxTtl) {
    throw badRequest('"ttl" value must be less than "max_ttl" value');
  }
  void mountMaxTtl;
  return role;
}

export function roleToData(r: Role): Record<string, unknown> {
  return {
    ttl: r.ttl,
    max_ttl: r.maxTtl,
    allow_localhost: r.allowLocalhost,
    allowed_domains: r.allowedDomains,
    allow_bare_domains: r.allowBareDomains,
    allow_subdomains: r.allowSubdomains,
    allow_glob_domains: r.allowGlobDomains,
    allow_any_name: r.allowAnyName,
    enforce_hostnames: r.enforceHostnames,
    allow_ip_sans: r.allowIpSans,
    allowed_uri_sans: r.allowedUriSans,
    server_flag: r.serverFlag,
    client_flag: r.clientFlag,
    code_signing_flag: r.codeSigningFlag,
    email_protection_flag: r.emailProtectionFlag,
    key_type: r.keyType,
    key_bits: r.keyBits,
    key_usage: r.keyUsage,
    ext_key_usage: r.extKeyUsage,
    use_csr_common_name: r.useCsrCommonName,
    use_csr_sans: r.useCsrSans,
    require_cn: r.requireCn,
    basic_constraints_valid_for_non_ca: r.basicConstraintsValidForNonCa,
    no_store: r.noStore,
    not_before_duration: r.notBeforeDuration,
    cn_validations: r.cnValidations,
    issuer_ref: 'default',
  };
}

/** The role sign-intermediate uses internally: anything goes, CN from the CSR unless given. */
export function signIntermediateRole(ttl: number, cnGiven: boolean): Role {
  return {
    ...roleFromBody('', {}, 0),
    ttl,
    allowAnyName: true,
    enforceHostnames: false,
    allowedUriSans: ['*'],
    keyType: 'any',
    keyBits: 0,
    useCsrCommonName: !cnGiven,
    useCsrSans: false,
    requireCn: true,
    cnValidations: ['disabled'],
  };
}

// ---- name checks, ported from Vault's cert_util.go

const HOSTNAME = /^(([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])\.)*([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9])\.?$/;
const LEFT_WILD_LABEL = /^(\*|\*?[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\*?)$/; // approximates Vault's leftWildLabelRegex

export function isHostname(name: string): boolean {
  return HOSTNAME.test(name);
}

function eqFold(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}

/** validateNames: returns the first name the role refuses, or "". */
export function firstRefusedName(role: Role, names: string[]): string {
  for (const name of names) {
    let reduced = name;
    let emailDomain = reduced;
    let wildcardLabel = '';
    let isEmail = false;
    let isWildcard = false;
    if (reduced.includes('@')) {
      const parts = reduced.split('@');
      if (parts.length !== 2) return name;
      reduced = parts[1] ?? '';
      emailDomain = reduced;
      isEmail = true;
    }
    if (reduced.includes('*')) {
      isWildcard = true;
      if ((reduced.match(/\*/g) ?? []).length > 1) return name;
      const split = reduced.split('.');
      wildcardLabel = split[0] ?? '';
      reduced = split.slice(1).join('.');
      if (reduced.includes('*')) return name;
    }
    if (isEmail && isWildcard) return name;
    if (role.enforceHostnames) {
      if (reduced !== '' && !HOSTNAME.test(reduced)) return name;
      if (isWildcard && !LEFT_WILD_LABEL.test(wildcardLabel)) return name;
    }
    if (role.allowAnyName) continue;
    if (role.allowLocalhost) {
      if (
        reduced === 'localhost' ||
        reduced === 'localdomain' ||
        (isEmail && (emailDomain === 'localhost' || emailDomain === 'localdomain'))
      )
        continue;
      if (role.allowSubdomains) {
        if (reduced.endsWith('.localhost') || (isWildcard && reduced === 'localhost')) continue;
        if (reduced.endsWith('.localdomain') || (isWildcard && reduced === 'localdomain')) continue;
      }
    }
    let valid = false;
    for (const domain of role.allowedDomains) {
      if (domain === '') continue;
      if (role.allowBareDomains && (eqFold(name, domain) || (isEmail && eqFold(emailDomain, domain)))) {
        valid = true;
        break;
      }
      if (role.allowSubdomains && (reduced.endsWith(`.${domain}`) || (isWildcard && eqFold(reduced, domain)))) {
        valid = true;
        break;
      }
      if (role.allowGlobDomains && domain.includes('*') && glob(domain, name)) {
        valid = true;
        break;
      }
    }
    if (valid) continue;
    return name;
  }
  return '';
}

/** validateCommonName: "" when the CN is acceptable. */
export function refusedCommonName(role: Role, cn: string): string {
  if (role.cnValidations.length === 1 && role.cnValidations[0] === 'disabled') return '';
  if (firstRefusedName(role, [cn]) !== '') return cn;
  if (role.cnValidations.length === 0) return '';
  if (cn.includes('@')) return role.cnValidations.includes('email') ? '' : cn;
  return role.cnValidations.includes('hostname') ? '' : cn;
}

export function uriAllowed(role: Role, uri: string): boolean {
  return role.allowedUriSans.some((pattern) => glob(pattern, uri));
}

/** parseKeyUsages: names without the "KeyUsage" prefix; anything else is silently ignored, as in Vault. */
export function keyUsageBits(names: string[]): number {
  const bits: Record<string, number> = {
    digitalsignature: 1,
    contentcommitment: 2,
    keyencipherment: 4,
    dataencipherment: 8,
    keyagreement: 16,
    certsign: 32,
    crlsign: 64,
    encipheronly: 128,
    decipheronly: 256,
  };
  return names.reduce((acc, n) => acc | (bits[n.trim().toLowerCase()] ?? 0), 0);
}

const EKU_OIDS: Record<string, string> = {
  any: '2.5.29.37.0',
  serverauth: '1.3.6.1.5.5.7.3.1',
  clientauth: '1.3.6.1.5.5.7.3.2',
  codesigning: '1.3.6.1.5.5.7.3.3',
  emailprotection: '1.3.6.1.5.5.7.3.4',
  ipsecendsystem: '1.3.6.1.5.5.7.3.5',
  ipsectunnel: '1.3.6.1.5.5.7.3.6',
  ipsecuser: '1.3.6.1.5.5.7.3.7',
  timestamping: '1.3.6.1.5.5.7.3.8',
  ocspsigning: '1.3.6.1.5.5.7.3.9',
};

/** parseExtKeyUsages: role flags plus ext_key_usage names (again without the "ExtKeyUsage" prefix). */
export function extKeyUsageOids(role: Role): string[] {
  const wanted = new Set<string>();
  for (const n of role.extKeyUsage) {
    const oid = EKU_OIDS[n.trim().toLowerCase()];
    if (oid) wanted.add(oid);
  }
  if (role.serverFlag) wanted.add(EKU_OIDS.serverauth ?? '');
  if (role.clientFlag) wanted.add(EKU_OIDS.clientauth ?? '');
  if (role.codeSigningFlag) wanted.add(EKU_OIDS.codesigning ?? '');
  if (role.emailProtectionFlag) wanted.add(EKU_OIDS.emailprotection ?? '');
  // Go's certutil appends in a fixed order: any, server, client, code signing, email, ...
  return Object.values(EKU_OIDS).filter((oid) => wanted.has(oid));
}

export function roleKeySpec(role: Role): KeySpec {
  if (role.keyType === 'any')
    throw badRequest(
      'role key type "any" not allowed for issuing certificates without providing key_type and/or key_bits request parameters',
    );
  return { type: role.keyType, bits: role.keyBits };
}

// The rules of a Mesh's mtls section: Kuma's CertificateAuthorityBackend schema, strictly.
// Unknown keys inside mtls are refused (Kuma would drop them silently: a `config:` typo loses a
// whole backend config); everything outside mtls is kept as it came.
import { bool, duration, formatSeconds, mapping, text, url, type DurationBounds } from './checks.js';
import { parseDuration } from './duration.js';
import { validateDataSource } from './datasource.js';
import type { FieldError } from './errors.js';
import { at, describe, isRecord, type Obj } from './fields.js';
import { nameProblem } from './names.js';

export const BACKEND_TYPES = ['builtin', 'provided', 'vault', 'acmpca', 'cert-manager'] as const;
export const BACKEND_MODES = ['STRICT', 'PERMISSIVE'] as const;
export const RSA_BITS = [2048, 3072, 4096] as const;
const MTLS_KEYS = ['enabledBackend', 'skipValidation', 'backends'];
const BACKEND_KEYS = ['name', 'type', 'mode', 'dpCert', 'rootChain', 'conf'];
const ACMPCA_ARN = /^arn:aws[a-z-]*:acm-pca:[^:\s]+:[^:\s]+:certificate-authority\/[^\s/]+$/;

type ConfCheck = (conf: unknown, path: string, errors: FieldError[]) => void;

const YEAR = 365 * 86400;
/** A dataplane certificate: 5 s (shorter ones expire before a renewal can land) to 10 years. */
export const DP_CERT_EXPIRATION_BOUNDS: DurationBounds = { min: 5, max: 10 * YEAR, why: 'shorter certificates expire before they can be renewed; Kuma\'s default is 24h' };
/** A builtin CA: 1 hour to 100 years (X.509 and the peers' time formats run out long after that). */
export const CA_EXPIRATION_BOUNDS: DurationBounds = { min: 3600, max: 100 * YEAR, why: 'the default is 10y' };
const DEFAULT_BUILTIN_CA_SECONDS = 10 * YEAR;

/** How long a builtin backend's CA lives (its default when unset); undefined for other types or an unreadable value. */
function builtinCaSeconds(b: Obj): number | undefined {
  if (b.type !== 'builtin') return undefined;
  const conf = isRecord(b.conf) ? b.conf : {};
  const expiration = isRecord(conf.caCert) ? conf.caCert.expiration : undefined;
  if (expiration === undefined || expiration === null) return DEFAULT_BUILTIN_CA_SECONDS;
  try {
    return typeof expiration === 'string' ? parseDuration(expiration) : undefined;
  } catch {
    return undefined;
  }
}

function dataSource(v: unknown, path: string, errors: FieldError[], required?: string): void {
  if (v === undefined || v === null) {
    if (required) errors.push({ field: path, message: `required; ${required}` });
    return;
  }
  validateDataSource(v, path, errors);
}

const builtin: ConfCheck = (conf, path, errors) => {
  if (conf === undefined || conf === null) return;
  const c = mapping(conf, path, ['caCert'], errors, 'a builtin backend');
  if (!c || c.caCert === undefined || c.caCert === null) return;
  const ca = mapping(c.caCert, at(path, 'caCert'), ['RSAbits', 'expiration'], errors);
  if (!ca) return;
  if (ca.RSAbits !== undefined && !(RSA_BITS as readonly unknown[]).includes(ca.RSAbits)) {
    errors.push({ field: at(path, 'caCert.RSAbits'), message: `must be 2048, 3072 or 4096 (got ${describe(ca.RSAbits, at(path, 'caCert.RSAbits'))})` });
  }
  duration(ca.expiration, at(path, 'caCert.expiration'), errors, CA_EXPIRATION_BOUNDS);
};

const provided: ConfCheck = (conf, path, errors) => {
  const c = mapping(conf, path, ['cert', 'key'], errors, 'a provided backend');
  if (!c) return;
  dataSource(c.cert, at(path, 'cert'), errors, 'give the CA certificate (PEM) as secret, file, inline or inlineString');
  dataSource(c.key, at(path, 'key'), errors, 'give the CA private key (PEM) as secret, file, inline or inlineString');
};

function vaultAuth(v: unknown, path: string, errors: FieldError[]): void {
  const auth = mapping(v, path, ['token', 'tls'], errors);
  if (!auth) return;
  const hasToken = auth.token !== undefined && auth.token !== null;
  const hasTls = auth.tls !== undefined && auth.tls !== null;
  if (hasToken && hasTls) {
    errors.push({
      field: path,
      message: 'set exactly one of token or tls, not both (remove tls to use the token, or remove token to use client certificates)',
    });
  } else if (!hasToken && !hasTls) {
    errors.push({ field: path, message: 'set one of token (a Vault token DataSource) or tls (clientKey and clientCert)' });
  }
  if (hasToken) dataSource(auth.token, at(path, 'token'), errors);
  if (hasTls) {
    const tls = mapping(auth.tls, at(path, 'tls'), ['clientKey', 'clientCert'], errors);
    if (tls) {
      dataSource(tls.clientKey, at(path, 'tls.clientKey'), errors, 'give the client private key used to log in to Vault');
      dataSource(tls.clientCert, at(path, 'tls.clientCert'), errors, 'give the client certificate used to log in to Vault');
    }
  }
}

const vault: ConfCheck = (conf, path, errors) => {
  const c = mapping(conf, path, ['fromCp'], errors, 'a vault backend');
  if (!c) return;
  const fp = at(path, 'fromCp');
  if (c.fromCp === undefined || c.fromCp === null) {
    errors.push({ field: fp, message: 'required; add fromCp with address and auth (the control plane talks to Vault)' });
    return;
  }
  const f = mapping(c.fromCp, fp, ['address', 'agentAddress', 'namespace', 'pki', 'role', 'commonName', 'tls', 'auth'], errors);
  if (!f) return;
  url(f.address, at(fp, 'address'), errors, 'https://vault.example.com:8200', 'give the Vault address, e.g. https://vault:8200');
  if (f.agentAddress !== '') url(f.agentAddress, at(fp, 'agentAddress'), errors, 'http://127.0.0.1:8100 (or leave it empty)');
  for (const key of ['namespace', 'pki', 'role', 'commonName']) text(f[key], at(fp, key), errors);
  if (f.tls !== undefined && f.tls !== null) {
    const tls = mapping(f.tls, at(fp, 'tls'), ['caCert', 'skipVerify', 'serverName'], errors);
    if (tls) {
      dataSource(tls.caCert, at(fp, 'tls.caCert'), errors);
      bool(tls.skipVerify, at(fp, 'tls.skipVerify'), errors);
      text(tls.serverName, at(fp, 'tls.serverName'), errors);
    }
  }
  if (f.auth === undefined || f.auth === null) {
    errors.push({ field: at(fp, 'auth'), message: 'required; set auth.token or auth.tls (clientKey and clientCert)' });
  } else vaultAuth(f.auth, at(fp, 'auth'), errors);
};

const acmpca: ConfCheck = (conf, path, errors) => {
  const c = mapping(conf, path, ['arn', 'commonName', 'caCert', 'auth'], errors, 'an acmpca backend');
  if (!c) return;
  const arn = text(c.arn, at(path, 'arn'), errors, 'give the ARN of the ACM private CA');
  if (arn && !ACMPCA_ARN.test(arn)) {
    errors.push({
      field: at(path, 'arn'),
      message: `${describe(arn, at(path, 'arn'))} is not an ACM Private CA ARN; copy it from AWS, shaped like arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>`,
    });
  }
  text(c.commonName, at(path, 'commonName'), errors);
  dataSource(c.caCert, at(path, 'caCert'), errors);
  if (c.auth === undefined || c.auth === null) return;
  const auth = mapping(c.auth, at(path, 'auth'), ['awsCredentials'], errors);
  if (!auth) return;
  const cp = at(path, 'auth.awsCredentials');
  const creds = auth.awsCredentials === undefined
    ? (errors.push({ field: cp, message: 'required; set awsCredentials with accessKey and accessKeySecret, or remove auth to use the default AWS credential chain' }), undefined)
    : mapping(auth.awsCredentials, cp, ['accessKey', 'accessKeySecret'], errors);
  if (!creds) return;
  dataSource(creds.accessKey, at(cp, 'accessKey'), errors, 'give the AWS access key id');
  dataSource(creds.accessKeySecret, at(cp, 'accessKeySecret'), errors, 'give the AWS secret access key');
};

const certManager: ConfCheck = (conf, path, errors) => {
  const c = mapping(conf, path, ['issuerName', 'issuerKind', 'issuerGroup'], errors, 'a cert-manager backend');
  if (!c) return;
  text(c.issuerName, at(path, 'issuerName'), errors, 'name the cert-manager Issuer or ClusterIssuer');
  text(c.issuerKind, at(path, 'issuerKind'), errors);
  text(c.issuerGroup, at(path, 'issuerGroup'), errors);
};

const CONF: Record<(typeof BACKEND_TYPES)[number], ConfCheck> = {
  builtin,
  provided,
  vault,
  acmpca,
  'cert-manager': certManager,
};
const CONF_REQUIRED = new Set(['provided', 'vault', 'acmpca', 'cert-manager']);

function backend(b: unknown, path: string, errors: FieldError[]): string | undefined {
  if (!isRecord(b)) {
    errors.push({ field: path, message: `must be a mapping with name, type and conf (got ${describe(b, path)})` });
    return undefined;
  }
  for (const alias of ['acm', 'certManager'] as const) {
    if (b[alias] !== undefined) {
      const forType = alias === 'acm' ? 'acmpca (or acm)' : 'cert-manager';
      errors.push({ field: at(path, alias), message: `only a backend of type ${forType} takes this block; set that type or move the settings to conf` });
    }
  }
  const rest: Obj = Object.fromEntries(Object.entries(b).filter(([k]) => k !== 'acm' && k !== 'certManager'));
  mapping(rest, path, BACKEND_KEYS, errors);
  const name = text(b.name, at(path, 'name'), errors, 'give the backend a name, e.g. ca-1');
  if (name) {
    const problem = nameProblem(name);
    if (problem) errors.push({ field: at(path, 'name'), message: problem });
  }
  const type = text(b.type, at(path, 'type'), errors, `set one of ${BACKEND_TYPES.join(', ')}`);
  if (b.mode !== undefined && !(BACKEND_MODES as readonly unknown[]).includes(b.mode)) {
    errors.push({ field: at(path, 'mode'), message: `must be STRICT (the default) or PERMISSIVE (got ${describe(b.mode, at(path, 'mode'))})` });
  }
  if (b.dpCert !== undefined && b.dpCert !== null) {
    const dp = mapping(b.dpCert, at(path, 'dpCert'), ['rotation', 'requestTimeout'], errors);
    if (dp?.rotation !== undefined && dp.rotation !== null) {
      const rot = mapping(dp.rotation, at(path, 'dpCert.rotation'), ['expiration'], errors);
      const dpSeconds = duration(rot?.expiration, at(path, 'dpCert.rotation.expiration'), errors, DP_CERT_EXPIRATION_BOUNDS);
      const caSeconds = builtinCaSeconds(b);
      if (dpSeconds !== undefined && caSeconds !== undefined && dpSeconds > caSeconds) {
        errors.push({ field: at(path, 'dpCert.rotation.expiration'), message: `is longer than the builtin CA it is issued from lives (conf.caCert.expiration ${formatSeconds(caSeconds)}); a certificate cannot outlive its CA` });
      }
    }
    duration(dp?.requestTimeout, at(path, 'dpCert.requestTimeout'), errors);
  }
  if (b.rootChain !== undefined && b.rootChain !== null) {
    const rc = mapping(b.rootChain, at(path, 'rootChain'), ['requestTimeout'], errors);
    duration(rc?.requestTimeout, at(path, 'rootChain.requestTimeout'), errors);
  }
  if (type === undefined) return name;
  if (!(BACKEND_TYPES as readonly string[]).includes(type)) {
    errors.push({ field: at(path, 'type'), message: `unknown backend type ${JSON.stringify(type)}; use one of ${BACKEND_TYPES.join(', ')} (acm is read as acmpca)` });
    return name;
  }
  if ((b.conf === undefined || b.conf === null) && CONF_REQUIRED.has(type)) {
    errors.push({ field: at(path, 'conf'), message: `required for a ${type} backend; add its conf block` });
    return name;
  }
  CONF[type as (typeof BACKEND_TYPES)[number]](b.conf, at(path, 'conf'), errors);
  return name;
}

/** Errors of a Mesh spec; only `mtls` is checked, other fields are Kuma's and kept as they are. */
export function validateMeshSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  if (spec.mtls === undefined || spec.mtls === null) return errors;
  const mtls = mapping(spec.mtls, 'mtls', MTLS_KEYS, errors);
  if (!mtls) return errors;
  bool(mtls.skipValidation, 'mtls.skipValidation', errors);
  const names = new Map<string, number>();
  if (mtls.backends !== undefined && mtls.backends !== null) {
    if (!Array.isArray(mtls.backends)) {
      errors.push({ field: 'mtls.backends', message: `must be a list of backends (got ${describe(mtls.backends, 'mtls.backends')})` });
    } else {
      mtls.backends.forEach((b: unknown, i) => {
        const path = `mtls.backends[${i}]`;
        const name = backend(b, path, errors);
        if (name === undefined) return;
        const first = names.get(name);
        if (first !== undefined) {
          errors.push({ field: at(path, 'name'), message: `"${name}" is already the name of mtls.backends[${first}]; give each backend its own name` });
        } else names.set(name, i);
      });
    }
  }
  const enabled = text(mtls.enabledBackend, 'mtls.enabledBackend', errors);
  if (enabled && !names.has(enabled)) {
    errors.push({
      field: 'mtls.enabledBackend',
      message: names.size
        ? `"${enabled}" is not the name of a backend; set it to one of ${[...names.keys()].join(', ')}, or add a backend named "${enabled}"`
        : `"${enabled}" is not the name of a backend; add a backend named "${enabled}" under mtls.backends`,
    });
  }
  return errors;
}

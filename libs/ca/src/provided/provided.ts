import { createPrivateKey } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { FieldError, ProvidedConf } from '@meshca/api';
import { certificateChainFromPem, parseCertificate, signatureAlgorithmFor, verifyKeyMatchesCert } from '@meshca/pki';
import type { ParsedCertificate } from '@meshca/pki';
import type { BackendContext, CaBackend } from '../backend.js';
import { createLocalBackend } from '../builtin/local-backend.js';
import type { CaMaterialPem, LocalBackendOptions } from '../builtin/local-backend.js';
import { DataSourceError } from '../datasource.js';

interface Loaded {
  material?: CaMaterialPem;
  errors: FieldError[];
}

/**
 * Reads and checks a provided backend's `conf.cert` and `conf.key`. Every problem is reported
 * against the field that carries it; messages describe, never quote, the material.
 */
async function load(ctx: BackendContext, path: string, now: Date): Promise<Loaded> {
  const name = ctx.backend.name;
  const conf = ctx.backend.conf as Partial<ProvidedConf>;
  const certField = `${path}.conf.cert`;
  const keyField = `${path}.conf.key`;
  const errors: FieldError[] = [];

  const read = async (source: ProvidedConf['cert'] | undefined, field: string, what: string): Promise<string | undefined> => {
    if (!source) {
      errors.push({ field, message: `provided backend "${name}" needs ${what} (a secret, file, inline or inlineString data source)` });
      return undefined;
    }
    try {
      return (await ctx.readDataSource(source, field)).toString('utf8');
    } catch (err) {
      if (err instanceof DataSourceError) errors.push({ field: err.field, message: err.reason });
      else errors.push({ field, message: `cannot read ${what} of provided backend "${name}": ${(err as Error).message}` });
      return undefined;
    }
  };
  const [certText, keyText] = await Promise.all([read(conf.cert, certField, 'a certificate'), read(conf.key, keyField, 'a key')]);

  let cert: ParsedCertificate | undefined;
  let chain: string[] = [];
  if (certText !== undefined) {
    chain = certificateChainFromPem(certText);
    const first = chain[0];
    if (!first) {
      errors.push({
        field: certField,
        message: `the certificate of provided backend "${name}" is not PEM: expected a "-----BEGIN CERTIFICATE-----" block`,
      });
    } else {
      try {
        cert = parseCertificate(first);
      } catch {
        errors.push({ field: certField, message: `the certificate of provided backend "${name}" is not a valid X.509 certificate` });
      }
    }
  }
  if (cert) {
    if (!cert.isCa) {
      errors.push({
        field: certField,
        message: `the certificate of provided backend "${name}" is not a CA (basicConstraints CA:TRUE is missing); provide a CA certificate, not a leaf`,
      });
    }
    if (cert.notAfter.getTime() <= now.getTime()) {
      errors.push({
        field: certField,
        message: `the certificate of provided backend "${name}" expired at ${cert.notAfter.toISOString()}; provide a current CA`,
      });
    } else if (cert.notBefore.getTime() > now.getTime()) {
      errors.push({
        field: certField,
        message: `the certificate of provided backend "${name}" is not valid before ${cert.notBefore.toISOString()}; check the clocks or wait`,
      });
    }
  }

  let keyOk = false;
  if (keyText !== undefined) {
    let key: KeyObject | undefined;
    try {
      key = createPrivateKey(keyText);
    } catch {
      errors.push({
        field: keyField,
        message: `the key of provided backend "${name}" is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1)`,
      });
    }
    if (key) {
      try {
        signatureAlgorithmFor(key);
        keyOk = true;
      } catch {
        errors.push({
          field: keyField,
          message: `the key of provided backend "${name}" is of a type meshca cannot sign with: use an EC (P-256/384/521), RSA or Ed25519 key`,
        });
      }
    }
  }
  if (cert && keyOk && keyText !== undefined && chain[0] && !verifyKeyMatchesCert(chain[0], keyText)) {
    errors.push({ field: keyField, message: `the key of provided backend "${name}" does not match its certificate` });
  }
  if (errors.length > 0 || certText === undefined || keyText === undefined) return { errors };
  return { material: { certPem: chain.join(''), keyPem: keyText }, errors };
}

/**
 * Apply-time check of a provided backend: both data sources readable, the certificate parses,
 * is a CA and is within its validity, and the key is the certificate's. `path` is the backend's
 * field path, e.g. `mtls.backends[1]`.
 */
export async function checkProvidedCa(
  ctx: BackendContext,
  path = `mtls.backends[name=${ctx.backend.name}]`,
  now = new Date(),
): Promise<FieldError[]> {
  return (await load(ctx, path, now)).errors;
}

/** Issues from the CA in `conf.cert` / `conf.key`; throws with the same messages as the check. */
export async function createProvidedBackend(ctx: BackendContext, options?: LocalBackendOptions & { path?: string }): Promise<CaBackend> {
  const { material, errors } = await load(ctx, options?.path ?? `mtls.backends[name=${ctx.backend.name}]`, options?.now?.() ?? new Date());
  if (!material) throw new Error(errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  return createLocalBackend({ mesh: ctx.mesh, name: ctx.backend.name, type: 'provided', material }, options);
}

// A MeshIdentity's CA, as Kuma's Bundled provider has it: a user CA read from SecureDataSources
// (checked like a provided backend, plus the self-signed rule), or one a zone makes for itself.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { FieldError, MeshIdentitySpec, SecretSpec, SecureDataSource } from '@meshca/api';
import { certificateChainFromPem, generateCaAsync, parseCertificate, signatureAlgorithmFor, verifyKeyMatchesCert } from '@meshca/pki';
import type { ResourceGetter } from '../backend.js';
import type { CaMaterialPem } from '../builtin/local-backend.js';
import { readFile } from 'node:fs/promises';

export interface IdentityCaRead {
  material?: CaMaterialPem;
  errors: FieldError[];
}

const CA_PATH = 'spec.provider.bundled.ca';

/** Where a data source is read: on global only Secrets and inline values are; files and env vars are the zones'. */
export type ReadWhere = 'global' | 'zone';

/** Whether the data source can be read where `where` runs (global cannot see a zone's files). */
export function readableOn(where: ReadWhere, ds: SecureDataSource): boolean {
  return where === 'zone' || ds.type === 'Secret' || ds.type === 'InsecureInline';
}

async function read(ds: SecureDataSource, field: string, mesh: string, get: ResourceGetter): Promise<string> {
  switch (ds.type) {
    case 'Secret': {
      const secret = await get({ type: 'Secret', mesh, name: ds.secretRef.name });
      if (!secret)
        throw new Error(
          `${field}.secretRef.name: secret "${ds.secretRef.name}" does not exist in mesh "${mesh}"; create it first (meshctl apply -f secret.yaml)`,
        );
      return Buffer.from((secret.spec as SecretSpec).data, 'base64').toString('utf8');
    }
    case 'File':
      try {
        return await readFile(ds.file.path, 'utf8');
      } catch (err) {
        throw new Error(
          `${field}.file.path: cannot read "${ds.file.path}" on the zone control plane host (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path and its permissions`,
        );
      }
    case 'EnvVar': {
      const value = process.env[ds.envVar.name];
      if (value === undefined)
        throw new Error(`${field}.envVar.name: environment variable: ${ds.envVar.name} is not defined on the zone control plane`);
      return value;
    }
    case 'InsecureInline':
      return ds.insecureInline.value;
  }
}

/**
 * Reads and checks the CA of a Bundled MeshIdentity with `ca`: both parts readable, the first
 * certificate a CA within its validity, the key its key, and a self-signed one only with
 * insecureAllowSelfSigned. Messages describe, never quote, the material.
 */
export async function readIdentityCa(spec: MeshIdentitySpec, mesh: string, get: ResourceGetter, now = new Date()): Promise<IdentityCaRead> {
  const bundled = spec.provider?.bundled;
  const ca = bundled?.ca;
  if (!ca) return { errors: [{ field: CA_PATH, message: 'must be defined' }] };
  const errors: FieldError[] = [];
  const take = async (ds: SecureDataSource, field: string): Promise<string | undefined> => {
    try {
      return await read(ds, field, mesh, get);
    } catch (err) {
      const text = (err as Error).message;
      const at = text.indexOf(': ');
      errors.push({ field: text.slice(0, at), message: text.slice(at + 2) });
      return undefined;
    }
  };
  const [certText, keyText] = await Promise.all([
    take(ca.certificate, `${CA_PATH}.certificate`),
    take(ca.privateKey, `${CA_PATH}.privateKey`),
  ]);
  const certField = `${CA_PATH}.certificate`;
  const keyField = `${CA_PATH}.privateKey`;
  const chain = certText === undefined ? [] : certificateChainFromPem(certText);
  if (certText !== undefined && chain.length === 0) {
    errors.push({
      field: certField,
      message: 'failed to decode PEM block or block is not of type CERTIFICATE; give the CA certificate in PEM',
    });
  }
  const first = chain[0];
  if (first) {
    try {
      const cert = parseCertificate(first);
      if (!cert.isCa)
        errors.push({
          field: certField,
          message: "basic constraint 'CA' must be set to 'true' (see X509-SVID: 4.1. Basic Constraints); give a CA certificate, not a leaf",
        });
      if (cert.notAfter.getTime() <= now.getTime())
        errors.push({ field: certField, message: `the CA certificate expired at ${cert.notAfter.toISOString()}; give a current CA` });
      const x = new X509Certificate(first);
      if (bundled?.insecureAllowSelfSigned !== true && x.checkIssued(x) && x.verify(x.publicKey)) {
        errors.push({
          field: certField,
          message: 'self-signed certificates are not allowed; give a CA signed by your root, or set insecureAllowSelfSigned: true',
        });
      }
    } catch {
      errors.push({ field: certField, message: 'not a valid x509 certificate' });
    }
  }
  if (keyText !== undefined) {
    try {
      signatureAlgorithmFor(createPrivateKey(keyText));
      if (first && !verifyKeyMatchesCert(first, keyText))
        errors.push({ field: keyField, message: 'does not match the CA certificate; give the key of that certificate' });
    } catch {
      errors.push({
        field: keyField,
        message: 'is not an unencrypted PEM private key (PKCS#8, PKCS#1 or SEC1) of a type meshca signs with (EC, RSA, Ed25519)',
      });
    }
  }
  if (errors.length > 0 || certText === undefined || keyText === undefined) return { errors };
  return { material: { certPem: chain.join(''), keyPem: keyText }, errors };
}

/**
 * The CA a zone makes for an autogenerated MeshIdentity: self-signed, for its trust domain, ten
 * years (as Kuma). ECDSA P-256: Kuma uses RSA-2048, but P-256 signs leaves much faster.
 */
export function generateIdentityCa(trustDomain: string): Promise<CaMaterialPem> {
  return generateCaAsync({
    commonName: trustDomain.slice(0, 64),
    keyType: 'ecdsa-p256',
    validitySeconds: 10 * 365 * 86400,
    uriSans: [`spiffe://${trustDomain}`],
  });
}

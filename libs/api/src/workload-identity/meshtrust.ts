// MeshTrust: the CA certificates a mesh's dataplanes trust for one trust domain. Zones publish one
// per MeshIdentity (unless meshTrustCreation: Disabled); operators apply others on global.
import { mapping, text } from '../checks.js';
import type { FieldError } from '../errors.js';
import { at, describe, isRecord, type Obj } from '../fields.js';
import { trustDomainProblem } from './spiffe.js';

export interface MeshTrustSpec {
  trustDomain: string;
  caBundles: { type: 'Pem'; pem: { value: string } }[];
  /** Deprecated in Kuma 2.13 (status.origin replaces it); kept as given. */
  origin?: { kri?: string };
}

const P = 'spec';
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----\r?\n([\s\S]*?)-----END \1-----/g;

/** The PEM blocks of a text: their type and whether the body is base64. */
function pemBlocks(value: string): { type: string; base64: boolean }[] {
  return [...value.matchAll(PEM_BLOCK)].map((m) => ({
    type: m[1] ?? '',
    base64: /^[A-Za-z0-9+/=\s]+$/.test(m[2] ?? '') && (m[2] ?? '').trim() !== '',
  }));
}

export function validateMeshTrustSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  mapping(spec, P, ['trustDomain', 'caBundles', 'origin'], errors, 'a MeshTrust');
  const bundles = spec.caBundles;
  if (!Array.isArray(bundles) || bundles.length === 0) {
    errors.push({
      field: `${P}.caBundles`,
      message:
        Array.isArray(bundles) || bundles === undefined
          ? 'must not be empty; list the CA certificates: - type: Pem, pem: { value: <PEM> }'
          : `must be a list (got ${describe(bundles, 'caBundles')})`,
    });
  } else {
    bundles.forEach((b: unknown, i) => {
      const path = `${P}.caBundles[${i}]`;
      const bundle = mapping(b, path, ['type', 'pem'], errors, 'a CA bundle');
      if (!bundle) return;
      if (bundle.type !== 'Pem') {
        errors.push({ field: at(path, 'type'), message: `${describe(bundle.type, 'type')} must be one of: Pem` });
        return;
      }
      if (!isRecord(bundle.pem)) {
        errors.push({ field: at(path, 'pem'), message: 'must be defined; give pem.value with the PEM of the CA certificates' });
        return;
      }
      mapping(bundle.pem, at(path, 'pem'), ['value'], errors);
      const value = text(bundle.pem.value, at(path, 'pem.value'), errors, 'give the PEM of the CA certificates');
      if (value === undefined) return;
      const blocks = pemBlocks(value);
      // A trust bundle is public: a private key here would go to every zone and dataplane.
      if (blocks.some((k) => k.type.includes('PRIVATE KEY'))) {
        errors.push({
          field: at(path, 'pem.value'),
          message: 'holds a private key; a MeshTrust carries CA certificates only: remove the key block',
        });
      } else if (blocks.length === 0 || blocks.some((k) => k.type !== 'CERTIFICATE' || !k.base64)) {
        errors.push({
          field: at(path, 'pem.value'),
          message:
            'provided certificate has incorrect format; give PEM "-----BEGIN CERTIFICATE-----" blocks (replace any placeholder with the real certificate)',
        });
      }
    });
  }
  const td = text(spec.trustDomain, `${P}.trustDomain`, errors, 'trustDomain needs to be defined');
  if (td !== undefined && td !== '') {
    if (td.length > 253) errors.push({ field: `${P}.trustDomain`, message: 'must not be longer than 253 characters' });
    else {
      const problem = trustDomainProblem(td);
      if (problem) errors.push({ field: `${P}.trustDomain`, message: `${problem}; write it like "default.zone-1.mesh.local"` });
    }
  }
  if (spec.origin !== undefined) {
    const o = mapping(spec.origin, `${P}.origin`, ['kri'], errors);
    text(o?.kri, `${P}.origin.kri`, errors);
  }
  return errors;
}

/** The CA certificate PEMs of a MeshTrust, one per certificate, in order. */
export function meshTrustCertificates(spec: MeshTrustSpec): string[] {
  const out: string[] = [];
  for (const b of spec.caBundles) {
    for (const m of b.pem.value.matchAll(PEM_BLOCK)) if (m[1] === 'CERTIFICATE') out.push(`${m[0].replace(/\r\n/g, '\n')}\n`);
  }
  return out;
}

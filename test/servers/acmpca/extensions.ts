import { x509 } from './x509.js';
import { invalidArgs } from './errors.js';
import type { Template } from './templates.js';

type Input = Record<string, unknown>;

const OID = {
  basicConstraints: '2.5.29.19',
  authorityKeyIdentifier: '2.5.29.35',
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
};

/** Extensions every end-entity template defines itself; passthrough never overrides them. */
const TEMPLATE_DEFINED = new Set(Object.values(OID));

const GENERAL_NAME_TYPES: Record<string, x509.JsonGeneralName['type']> = {
  UniformResourceIdentifier: 'url',
  DnsName: 'dns',
  IpAddress: 'ip',
  Rfc822Name: 'email',
  RegisteredId: 'id',
};

function sanFromApi(names: unknown): x509.SubjectAlternativeNameExtension {
  if (!Array.isArray(names) || names.length === 0)
    throw invalidArgs('ApiPassthrough.Extensions.SubjectAlternativeNames must not be empty.');
  const json = names.map((n, i) => {
    const entries = Object.entries((n ?? {}) as Input).filter(([, v]) => v !== undefined && v !== null);
    const [member, value] = entries[0] ?? [];
    if (entries.length !== 1 || member === undefined) {
      throw invalidArgs(`ApiPassthrough.Extensions.SubjectAlternativeNames[${i}] must set exactly one name type.`);
    }
    const type = GENERAL_NAME_TYPES[member];
    if (!type || typeof value !== 'string') {
      throw invalidArgs(`ApiPassthrough.Extensions.SubjectAlternativeNames[${i}].${member} is not supported by this test server.`);
    }
    return { type, value };
  });
  return new x509.SubjectAlternativeNameExtension(json, false);
}

function customFromApi(list: unknown): x509.Extension[] {
  if (!Array.isArray(list)) return [];
  return (list as Input[]).map((e, i) => {
    if (typeof e.ObjectIdentifier !== 'string' || typeof e.Value !== 'string') {
      throw invalidArgs(`ApiPassthrough.Extensions.CustomExtensions[${i}] needs ObjectIdentifier and a base64 Value.`);
    }
    return new x509.Extension(e.ObjectIdentifier, e.Critical === true, Buffer.from(e.Value, 'base64'));
  });
}

export interface ExtensionInputs {
  template: Template;
  csr: x509.Pkcs10CertificateRequest;
  apiPassthrough: Input | undefined;
  caCertificate: x509.X509Certificate;
}

/** Builds the issued certificate's extensions by the template order of operations. */
export async function buildExtensions({ template, csr, apiPassthrough, caCertificate }: ExtensionInputs): Promise<x509.Extension[]> {
  const caSki = caCertificate.getExtension(x509.SubjectKeyIdentifierExtension);
  const out: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, false),
    caSki
      ? new x509.AuthorityKeyIdentifierExtension(caSki.keyId, false)
      : await x509.AuthorityKeyIdentifierExtension.create(caCertificate.publicKey, false),
    await x509.SubjectKeyIdentifierExtension.create(csr.publicKey, false),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension(template.extendedKeyUsage, false),
  ];

  const apiExtensions = template.apiPassthrough ? ((apiPassthrough?.Extensions ?? {}) as Input) : {};
  const apiSan = apiExtensions.SubjectAlternativeNames;
  const csrSan = csr.getExtension(OID.subjectAltName);
  if (apiSan !== undefined) out.push(sanFromApi(apiSan));
  else if (csrSan) out.push(new x509.Extension(csrSan.type, csrSan.critical, csrSan.value));

  const seen = new Set(out.map((e) => e.type));
  for (const e of customFromApi(apiExtensions.CustomExtensions)) {
    if (TEMPLATE_DEFINED.has(e.type) || seen.has(e.type)) continue;
    out.push(e);
    seen.add(e.type);
  }
  if (template.csrPassthrough) {
    for (const e of csr.extensions) {
      if (TEMPLATE_DEFINED.has(e.type) || seen.has(e.type)) continue;
      out.push(new x509.Extension(e.type, e.critical, e.value));
      seen.add(e.type);
    }
  }
  return out;
}

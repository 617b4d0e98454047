import type { JsonName } from '@peculiar/x509';

// ASN1Subject member → attribute OID (RFC 4519 / X.520), in the order AWS writes them.
const ATTRIBUTES: Array<[string, string]> = [
  ['Country', '2.5.4.6'],
  ['State', '2.5.4.8'],
  ['Locality', '2.5.4.7'],
  ['Organization', '2.5.4.10'],
  ['OrganizationalUnit', '2.5.4.11'],
  ['DistinguishedNameQualifier', '2.5.4.46'],
  ['SerialNumber', '2.5.4.5'],
  ['Title', '2.5.4.12'],
  ['Surname', '2.5.4.4'],
  ['GivenName', '2.5.4.42'],
  ['Initials', '2.5.4.43'],
  ['Pseudonym', '2.5.4.65'],
  ['GenerationQualifier', '2.5.4.44'],
  ['CommonName', '2.5.4.3'],
];

/** Converts an ACM PCA ASN1Subject into a distinguished name; empty when no member is set. */
export function subjectToName(subject: Record<string, unknown> | undefined): JsonName {
  if (!subject) return [];
  const name: JsonName = [];
  for (const [member, oid] of ATTRIBUTES) {
    const v = subject[member];
    if (typeof v === 'string' && v !== '') name.push({ [oid]: [v] });
  }
  const custom = subject.CustomAttributes;
  if (Array.isArray(custom)) {
    for (const a of custom as Array<{ ObjectIdentifier?: unknown; Value?: unknown }>) {
      if (typeof a.ObjectIdentifier === 'string' && typeof a.Value === 'string') name.push({ [a.ObjectIdentifier]: [a.Value] });
    }
  }
  return name;
}

// What a dataplane certificate says about its holder. Kuma's layout: one SPIFFE ID per service the
// dataplane serves, and one kuma:// URI per tag value, so policies can match on any tag.
import type { DataplaneIdentity } from './backend.js';

export const SERVICE_TAG = 'kuma.io/service';

// Characters a URI may carry literally in a path (RFC 3986 pchar plus '/'); others are %-encoded.
const URI_SAFE = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/]*$/;
const encode = (s: string): string => (URI_SAFE.test(s) ? s : [...s].map((c) => (URI_SAFE.test(c) ? c : encodeURIComponent(c))).join(''));

function sortedValues(values: readonly string[] | undefined): string[] {
  return [...new Set(values ?? [])].filter((v) => v !== '').sort();
}

export function spiffeId(mesh: string, service: string): string {
  return `spiffe://${mesh}/${encode(service)}`;
}

/**
 * URI SANs for a dataplane: `spiffe://<mesh>/<service>` per kuma.io/service value, then
 * `kuma://<tag>/<value>` for every tag value; each group sorted, no duplicates.
 */
export function identityUriSans(identity: DataplaneIdentity): string[] {
  const services = sortedValues(identity.tags[SERVICE_TAG]);
  if (services.length === 0) {
    throw new Error(`dataplane "${identity.name}" in mesh "${identity.mesh}" has no ${SERVICE_TAG} tag: every inbound needs one`);
  }
  if (!/^[a-z0-9._-]+$/.test(identity.mesh)) {
    throw new Error(`mesh name "${identity.mesh}" cannot be a SPIFFE trust domain: use lower-case letters, digits, '.', '-' and '_'`);
  }
  const sans = services.map((s) => spiffeId(identity.mesh, s));
  const kuma: string[] = [];
  for (const tag of Object.keys(identity.tags).sort()) {
    for (const value of sortedValues(identity.tags[tag])) kuma.push(`kuma://${encode(tag)}/${encode(value)}`);
  }
  return [...sans, ...kuma];
}

const ACTION = /\{\{(-?)\s*([\s\S]*?)\s*(-?)\}\}/g;
const TAG_CALL = /^tag\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)$/;

/**
 * Renders a backend's commonName template the way Kuma does for `{{ tag "<name>" }}`, the one
 * directive it documents (e.g. `{{ tag "kuma.io/service" }}.mesh`). A tag with several values
 * renders its first value in sort order. Anything else in braces is refused, not passed through.
 */
export function renderCommonName(template: string, identity: DataplaneIdentity): string {
  let out = '';
  let last = 0;
  let trimNext = false;
  for (const m of template.matchAll(ACTION)) {
    let text = template.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    if (m[1] === '-') text = text.trimEnd();
    out += text;
    const call = TAG_CALL.exec(m[2] ?? '');
    if (!call) {
      throw new Error(`commonName template: unsupported directive "{{ ${m[2] ?? ''} }}"; only {{ tag "<tag name>" }} is supported`);
    }
    const name = call[1] !== undefined ? (JSON.parse(`"${call[1]}"`) as string) : (call[2] ?? '');
    const value = sortedValues(identity.tags[name])[0];
    if (value === undefined) {
      throw new Error(
        `commonName template: dataplane "${identity.name}" has no tag "${name}"; add it to its inbounds or change the template`,
      );
    }
    out += value;
    trimNext = m[3] === '-';
    last = m.index + m[0].length;
  }
  let rest = template.slice(last);
  if (trimNext) rest = rest.trimStart();
  out += rest;
  if (out.includes('{{') || out.includes('}}')) throw new Error('commonName template: unbalanced "{{" or "}}"');
  if (out.length === 0 || out.length > 64) {
    throw new Error(`commonName template renders "${out}", which is ${out.length} characters; a common name has 1 to 64`);
  }
  return out;
}

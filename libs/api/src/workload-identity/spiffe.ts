// SPIFFE ID rules (the SPIFFE ID standard, as go-spiffe enforces them for Kuma): what a rendered
// trust domain or ID must look like before it goes into a certificate.

const TRUST_DOMAIN = /^[a-z0-9._-]+$/;
const SEGMENT = /^[A-Za-z0-9._-]+$/;

/** What is wrong with a trust domain, or undefined. */
export function trustDomainProblem(td: string): string | undefined {
  if (td === '') return 'trust domain is missing';
  if (td.length > 255) return `trust domain is ${td.length} characters long; use at most 255`;
  if (!TRUST_DOMAIN.test(td)) return 'trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores';
  return undefined;
}

/** What is wrong with the path part of a SPIFFE ID (empty, or `/a/b`), or undefined. */
export function spiffePathProblem(path: string): string | undefined {
  if (path === '') return undefined;
  if (!path.startsWith('/')) return 'path must start with "/"';
  if (path.endsWith('/')) return 'path cannot have a trailing slash';
  for (const segment of path.slice(1).split('/')) {
    if (segment === '') return 'path cannot contain empty segments';
    if (segment === '.' || segment === '..') return 'path cannot contain dot segments';
    if (!SEGMENT.test(segment)) return 'path segment characters are limited to letters, numbers, dots, dashes, and underscores';
  }
  return undefined;
}

/** `spiffe://<td><path>` once both are valid. */
export function spiffeId(trustDomain: string, path: string): { ok: true; id: string } | { ok: false; error: string } {
  const problem = trustDomainProblem(trustDomain) ?? spiffePathProblem(path);
  if (problem !== undefined) return { ok: false, error: `failed to parse SPIFFE ID "spiffe://${trustDomain}${path}": ${problem}` };
  const id = `spiffe://${trustDomain}${path}`;
  if (id.length > 2048) return { ok: false, error: `SPIFFE ID is ${id.length} characters long; use at most 2048` };
  return { ok: true, id };
}

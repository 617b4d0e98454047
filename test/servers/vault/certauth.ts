import { X509Certificate } from 'node:crypto';
import { badRequest, notFound } from './errors.js';
import { commaList, duration, has, str } from './params.js';
import { x509 } from './pki/x509.js';
import type { Route } from './route.js';
import type { AuthMount, CertRole, Namespace } from './namespaces.js';
import type { TokenStore } from './tokens.js';
import { mintToken } from './tokenapi.js';

function colonHex(hex: string | undefined): string {
  return (hex ?? '').toLowerCase().match(/../g)?.join(':') ?? '';
}

/** The client certificate is trusted if it is the entry's certificate or directly signed by it, and still valid. */
function trusts(entry: CertRole, client: X509Certificate): boolean {
  const now = Date.now();
  if (Date.parse(client.validFrom) > now || Date.parse(client.validTo) < now) return false;
  let trusted: X509Certificate;
  try {
    trusted = new X509Certificate(entry.certificate);
  } catch {
    return false;
  }
  if (trusted.fingerprint256 === client.fingerprint256) return true;
  if (!client.checkIssued(trusted) || !client.verify(trusted.publicKey)) return false;
  const cn = /(?:^|\n)CN=([^\n]*)/.exec(client.subject)?.[1] ?? '';
  return entry.allowedCommonNames.length === 0 || entry.allowedCommonNames.includes(cn);
}

export function certAuthRoute(store: TokenStore, ns: Namespace, auth: AuthMount, sub: string): Route | undefined {
  const certMatch = /^certs\/([^/]+)$/.exec(sub);
  if (certMatch) {
    const name = certMatch[1] ?? '';
    return {
      exists: () => auth.certs.has(name),
      read: () => {
        const c = auth.certs.get(name);
        if (!c) throw notFound();
        return {
          data: {
            certificate: c.certificate,
            token_policies: c.policies,
            policies: c.policies,
            token_ttl: c.ttl,
            ttl: c.ttl,
            token_max_ttl: c.maxTtl,
            token_period: c.period,
            display_name: c.displayName,
            allowed_common_names: c.allowedCommonNames,
          },
        };
      },
      write: (req) => {
        const b = req.body;
        const certificate = str(b, 'certificate');
        if (certificate === '') throw badRequest('must specify certificate');
        try {
          new X509Certificate(certificate);
        } catch {
          throw badRequest('failed to parse certificate');
        }
        const policies = has(b, 'token_policies') ? commaList(b, 'token_policies') : commaList(b, 'policies');
        auth.certs.set(name, {
          name,
          certificate,
          policies,
          ttl: has(b, 'token_ttl') ? duration(b, 'token_ttl') : duration(b, 'ttl'),
          maxTtl: has(b, 'token_max_ttl') ? duration(b, 'token_max_ttl') : duration(b, 'max_ttl'),
          period: has(b, 'token_period') ? duration(b, 'token_period') : duration(b, 'period'),
          displayName: str(b, 'display_name', name),
          allowedCommonNames: commaList(b, 'allowed_common_names'),
        });
        return undefined;
      },
      delete: () => {
        auth.certs.delete(name);
        return undefined;
      },
    };
  }
  if (sub === 'certs' || sub === 'certs/') {
    return { list: () => (auth.certs.size ? { data: { keys: [...auth.certs.keys()].sort() } } : undefined) };
  }
  if (sub === 'login') {
    return {
      unauthenticated: true,
      write: (req) => {
        const raw = req.clientCert?.raw;
        if (!raw || raw.length === 0) throw badRequest('invalid certificate or no client certificate supplied');
        const client = new X509Certificate(raw);
        const wanted = str(req.body, 'name');
        const candidates = [...auth.certs.values()].filter((c) => wanted === '' || c.name === wanted);
        const matched = candidates.find((c) => trusts(c, client));
        if (!matched) throw badRequest('invalid certificate or no client certificate supplied');
        const parsed = new x509.X509Certificate(raw);
        const metadata = {
          authority_key_id: colonHex(parsed.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId),
          cert_name: matched.name,
          common_name: /(?:^|\n)CN=([^\n]*)/.exec(client.subject)?.[1] ?? '',
          serial_number: BigInt(`0x${client.serialNumber}`).toString(10),
          subject_key_id: colonHex(parsed.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId),
        };
        const { entry, ttl, warnings } = mintToken(store, ns, {
          policies: matched.policies,
          ttl: matched.ttl,
          explicitMaxTtl: matched.maxTtl,
          period: matched.period,
          renewable: true,
          numUses: 0,
          noDefaultPolicy: false,
          displayName: `cert-${matched.displayName}`,
          meta: metadata,
          path: `auth/${auth.path}login`,
          orphan: true,
        });
        return { auth: store.authBlock(entry, ttl, metadata), warnings };
      },
    };
  }
  return undefined;
}

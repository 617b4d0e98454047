// A CA whose key this process holds: the builtin and provided backends differ only in where the
// CA comes from, so both issue through this one implementation.
import { X509Certificate } from 'node:crypto';
import type { BackendType } from '@meshca/api';
import { certificateChainFromPem, createLocalIssuer, parseCertificate } from '@meshca/pki';
import type { IssuerPool, LeafIssuer } from '@meshca/pki';
import type { BackendHealth, CaBackend, IssuedCertificate, IssueRequest } from '../backend.js';
import { identityUriSans } from '../identity.js';

export interface CaMaterialPem {
  /** The signing CA certificate first, then (for provided CAs) the certificates above it. */
  certPem: string;
  keyPem: string;
}

export interface LocalBackendOptions {
  /** Sign on these worker threads instead of the calling thread. */
  pool?: IssuerPool;
  /** How far notBefore is set in the past, for peers whose clocks run behind. Default 60. */
  backdateSeconds?: number;
  /** For tests: the current time. */
  now?: () => Date;
}

export function createLocalBackend(
  args: { mesh: string; name: string; type: BackendType; material: CaMaterialPem },
  options: LocalBackendOptions = {},
): CaBackend {
  const certs = certificateChainFromPem(args.material.certPem);
  const signing = certs[0];
  if (!signing) throw new Error(`backend "${args.name}": no CA certificate`);
  const caNotAfter = parseCertificate(signing).notAfter;
  // Certificates between the leaf and a root: peers that only hold the root need them in the chain.
  const intermediates = certs.filter((pem) => {
    const x = new X509Certificate(pem);
    return !(x.checkIssued(x) && x.verify(x.publicKey));
  });
  const material = { caCertPem: signing, caKeyPem: args.material.keyPem };
  const issuer: LeafIssuer = options.pool ? options.pool.issuer(material) : createLocalIssuer(material);
  const now = options.now ?? (() => new Date());
  const backdateMs = (options.backdateSeconds ?? 60) * 1000;

  return {
    mesh: args.mesh,
    name: args.name,
    type: args.type,
    roots: async () => certs,
    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      if (request.identity.mesh !== args.mesh) {
        throw new Error(`backend "${args.name}" of mesh "${args.mesh}" cannot issue for mesh "${request.identity.mesh}"`);
      }
      if (!(request.ttlSeconds > 0)) throw new Error(`ttlSeconds must be positive, got ${request.ttlSeconds}`);
      const t = now().getTime();
      // A leaf cannot outlive its CA: peers would reject it from then on anyway.
      const notAfter = new Date(Math.min(t + request.ttlSeconds * 1000, caNotAfter.getTime()));
      if (notAfter.getTime() <= t)
        throw new Error(`the CA of backend "${args.name}" expired at ${caNotAfter.toISOString()}; rotate to a new backend`);
      const leaf = await issuer.issue({
        uriSans: request.uriSans ?? identityUriSans(request.identity),
        notBefore: new Date(t - backdateMs),
        notAfter,
        ...(request.csrPem !== undefined ? { csrPem: request.csrPem } : {}),
      });
      return {
        certChainPem: leaf.certPem + intermediates.join(''),
        ...(leaf.keyPem !== undefined ? { keyPem: leaf.keyPem } : {}),
        serial: leaf.serial,
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
      };
    },
    async health(): Promise<BackendHealth> {
      const checkedAt = now();
      if (caNotAfter.getTime() <= checkedAt.getTime()) {
        return { ok: false, reason: `the CA certificate expired at ${caNotAfter.toISOString()}`, checkedAt };
      }
      return { ok: true, checkedAt };
    },
    close: () => issuer.close(),
  };
}

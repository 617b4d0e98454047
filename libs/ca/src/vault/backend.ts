import { parseCertificate, parseCsr } from '@meshca/pki';
import type { Logger } from '@meshca/common';
import type { BackendContext, BackendHealth, CaBackend, CaClientState, IssuedCertificate, IssueRequest } from '../backend.js';
import { CaError } from '../errors.js';
import { identityUriSans, renderCommonName } from '../identity.js';
import { dedupe, isSelfSigned, splitCertificates } from './chain.js';
import { createVaultClient, type VaultResponse } from './client.js';
import { isInvalidToken, responseFailure, transportFailure, vaultMessage, type VaultCall } from './failure.js';
import { toPkcs8Pem } from './keys.js';
import { createLimiter } from '../limiter.js';
import { createTokenSession } from './session.js';
import type { VaultSettings } from './settings.js';

export interface VaultBackendOptions {
  /** Requests in flight to Vault at once for this backend; the rest queue. Default 8. */
  maxInFlight?: number;
  /** Renew a renewable token at this fraction of its TTL. Default 2/3. */
  renewFraction?: number;
  /** How long the mount's CA chain read by roots() is reused. Default 300 s. */
  rootsCacheSeconds?: number;
  log?: Logger;
}

/** What tests and benchmarks may look at besides the CaBackend interface. */
export interface VaultCaBackend extends CaBackend {
  readonly settings: Readonly<Pick<VaultSettings, 'pki' | 'role' | 'namespace' | 'address'>>;
  tokenState(): { ttlSeconds: number | undefined; renewable: boolean; renewals: number; logins: number };
  load(): { running: number; queued: number };
  clientState(): CaClientState;
}

export const DEFAULT_MAX_IN_FLIGHT = 8;

export function createVaultCa(ctx: BackendContext, s: VaultSettings, options: VaultBackendOptions = {}): VaultCaBackend {
  const maxInFlight = options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT;
  const limiter = createLimiter(maxInFlight);
  const client = createVaultClient(s, limiter, maxInFlight);
  const session = createTokenSession(s, client, {
    ...(options.renewFraction ? { renewFraction: options.renewFraction } : {}),
    ...(options.log ? { log: options.log } : {}),
  });
  const log = options.log;
  const rootsCacheMs = (options.rootsCacheSeconds ?? 300) * 1000;
  const where = `vault backend "${ctx.backend.name}" of mesh "${ctx.mesh}"`;

  /** Calls repeated with a fresh token; other failures are retried by the issuance, with backoff. */
  let retries = 0;
  let mountChain: { certs: string[]; at: number } | undefined;
  /** The CA chain that came with the last issued certificate: roots when ca_chain cannot be read. */
  let issuedChain: string[] | undefined;

  /** One authenticated call; with cert auth a refused token is replaced once and the call repeated. */
  async function call(c: VaultCall, body: Record<string, unknown> | undefined, timeoutMs: number): Promise<VaultResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await session.token();
      let res: VaultResponse;
      try {
        res = await client.request({ method: c.method as 'GET' | 'POST', path: c.path, body, token, timeoutMs });
      } catch (err) {
        throw transportFailure(s, c, err);
      }
      if (res.status === 403 && attempt === 0 && isInvalidToken(res) && (await session.refresh(token))) {
        retries += 1;
        continue;
      }
      return res;
    }
  }

  async function readMountChain(): Promise<string[]> {
    for (const path of [`${s.pki}/ca_chain`, `${s.pki}/ca/pem`]) {
      const c: VaultCall = { method: 'GET', path, capability: 'read' };
      const res = await call(c, undefined, s.rootsTimeoutMs);
      if (res.status === 204 || (res.status === 200 && splitCertificates(res.text).length === 0)) continue; // older Vault: a root mount has an empty ca_chain
      if (res.status !== 200) throw responseFailure(s, c, res);
      return dedupe(splitCertificates(res.text));
    }
    throw new CaError(
      `Vault mount "${s.pki}" at ${s.address} has no CA certificate yet: generate or import one (vault write ${s.pki}/root/generate/internal ...)`,
      false,
    );
  }

  return {
    mesh: ctx.mesh,
    name: ctx.backend.name,
    type: 'vault',
    settings: { pki: s.pki, role: s.role, namespace: s.namespace, address: s.address },

    async issue(request: IssueRequest): Promise<IssuedCertificate> {
      if (request.identity.mesh !== ctx.mesh) throw new Error(`${where} cannot issue for mesh "${request.identity.mesh}"`);
      if (!(request.ttlSeconds > 0)) throw new Error(`ttlSeconds must be positive, got ${request.ttlSeconds}`);
      const role = s.role;
      const uris = identityUriSans(request.identity);
      if (request.csrPem !== undefined) checkCsrSans(request.csrPem, uris);
      const body: Record<string, unknown> = {
        uri_sans: uris.join(','),
        ttl: `${Math.ceil(request.ttlSeconds)}s`,
        format: 'pem',
      };
      if (s.commonName) body.common_name = renderCommonName(s.commonName, request.identity);
      const csr = request.csrPem !== undefined;
      if (csr) body.csr = request.csrPem;
      const c: VaultCall = { method: 'POST', path: `${s.pki}/${csr ? 'sign' : 'issue'}/${role}`, capability: 'update' };
      const res = await call(c, body, s.issueTimeoutMs);
      if (res.status !== 200) {
        const err = responseFailure(s, c, res);
        if (csr && res.status === 403 && !isInvalidToken(res)) {
          // The key must stay with the dataplane: never fall back to issue (which makes the key here).
          throw new CaError(
            `${err.message}. CSR mode signs at "${c.path}", which the reference policy does not grant (it grants only "${s.pki}/issue/${role}"): add "${c.path}" with ["update"] to the policy, or request certificates without a CSR`,
            false,
          );
        }
        throw err;
      }
      const data = res.json?.data ?? {};
      const certificate = typeof data.certificate === 'string' ? data.certificate : '';
      const leafPem = splitCertificates(certificate)[0];
      if (!leafPem) throw new CaError(`Vault at ${s.address} answered ${c.path} without a certificate`, true);
      const caChain = Array.isArray(data.ca_chain) ? data.ca_chain.filter((p): p is string => typeof p === 'string') : [];
      const issuing = typeof data.issuing_ca === 'string' ? data.issuing_ca : '';
      const chain = dedupe(splitCertificates([...(caChain.length > 0 ? caChain : [issuing])].join('\n')));
      if (chain.length > 0) issuedChain = chain;
      for (const w of res.json?.warnings ?? [])
        log?.warn({ mesh: ctx.mesh, backend: ctx.backend.name, warning: w }, 'vault warned on issue');
      let keyPem: string | undefined;
      if (!csr) {
        if (typeof data.private_key !== 'string') throw new CaError(`Vault at ${s.address} answered ${c.path} without a private key`, true);
        keyPem = toPkcs8Pem(data.private_key);
      }
      const leaf = parseCertificate(leafPem);
      if (!sameSet(leaf.uriSans, uris)) {
        throw new CaError(
          `Vault at ${s.address} signed a certificate for ${leaf.uriSans.join(', ') || 'no URI'} instead of ${uris.join(', ')}; it is not handed out (check the role's use_csr_sans and allowed_uri_sans)`,
          false,
        );
      }
      return {
        certChainPem: leafPem + chain.filter((p) => !isSelfSigned(p)).join(''),
        ...(keyPem !== undefined ? { keyPem } : {}),
        serial: leaf.serial,
        notBefore: leaf.notBefore,
        notAfter: leaf.notAfter,
      };
    },

    async roots(): Promise<string[]> {
      if (mountChain && Date.now() - mountChain.at < rootsCacheMs) return mountChain.certs;
      let failure: CaError;
      try {
        const certs = await readMountChain();
        mountChain = { certs, at: Date.now() };
        return certs;
      } catch (err) {
        failure = err instanceof CaError ? err : new CaError(String(err), true);
      }
      const known = issuedChain ?? mountChain?.certs;
      if (known) return known;
      throw new CaError(
        `${failure.message}; no certificate has been issued through this backend yet to learn the chain from either`,
        failure.retryable,
        { cause: failure },
      );
    },

    async health(): Promise<BackendHealth> {
      const checkedAt = new Date();
      const bad = (reason: string): BackendHealth => ({ ok: false, reason, checkedAt });
      const sys: VaultCall = { method: 'GET', path: 'sys/health' };
      let res: VaultResponse;
      try {
        res = await client.request({ method: 'GET', path: 'sys/health', namespaced: false, timeoutMs: s.rootsTimeoutMs });
      } catch (err) {
        return bad(transportFailure(s, sys, err).message);
      }
      // 429 standby and 472/473 secondaries still serve requests through the active node.
      if (![200, 429, 472, 473].includes(res.status)) {
        const body = res.json as { sealed?: boolean; initialized?: boolean } | undefined;
        if (body?.sealed === true || res.status === 503) return bad(`Vault at ${s.address} is sealed: unseal it (vault operator unseal)`);
        if (body?.initialized === false) return bad(`Vault at ${s.address} is not initialized (vault operator init)`);
        return bad(`Vault at ${s.address} sys/health answered ${res.status}: ${vaultMessage(res)}`);
      }
      if (s.auth.kind === 'agent') return { ok: true, checkedAt };
      const lookup: VaultCall = { method: 'GET', path: 'auth/token/lookup-self', capability: 'read' };
      try {
        const r = await call(lookup, undefined, s.rootsTimeoutMs);
        // Only a refused token is unhealthy; a policy without lookup-self may still issue.
        if (isInvalidToken(r) || r.status >= 500) return bad(responseFailure(s, lookup, r).message);
      } catch (err) {
        return bad(err instanceof Error ? err.message : String(err));
      }
      return { ok: true, checkedAt };
    },

    tokenState: () => session.state(),
    load: () => limiter.load(),
    clientState() {
      const { running, queued } = limiter.load();
      const ttl = session.ttlLeftSeconds();
      return { inFlight: running, queued, retries, backingOff: 0, ...(ttl === undefined ? {} : { tokenTtlSeconds: ttl }) };
    },

    async close(): Promise<void> {
      session.close();
      client.close();
    },
  };
}

const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/**
 * Vault's sign endpoint puts the CSR's own SANs in the certificate (roles default to
 * use_csr_sans=true), so a CSR must ask for exactly the dataplane's identity, nothing else.
 */
function checkCsrSans(csrPem: string, uris: string[]): void {
  let asked: string[];
  try {
    asked = parseCsr(csrPem).uriSans;
  } catch (err) {
    throw new CaError(`the dataplane's CSR cannot be used: ${(err as Error).message}`, false);
  }
  if (!sameSet(asked, uris)) {
    throw new CaError(
      `the dataplane's CSR asks for URI SANs [${asked.join(', ')}] but its identity is [${uris.join(', ')}]; Vault signs the CSR's own SANs, so the CSR must carry exactly the identity's URIs`,
      false,
    );
  }
}

// Turns what Vault (or the way to it) answered into a CaError an operator can act on: Vault's own
// message, whether retrying can help, and what to change. Never a token or key.
import { CaError } from '../errors.js';
import { VaultTransportError, type VaultResponse } from './client.js';
import type { VaultSettings } from './settings.js';

export interface VaultCall {
  method: string;
  path: string;
  /** The policy capability the call needs, for permission errors. */
  capability?: string;
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

/** `1 error occurred:\n\t* permission denied\n\n` (go-multierror) -> `permission denied`. */
export function vaultMessage(res: VaultResponse): string {
  const errors = res.json?.errors;
  const lines = (errors ?? [])
    .flatMap((e) => e.split('\n'))
    .map((l) => l.replace(/^\s*\*\s*/, '').trim())
    .filter((l) => l !== '' && !/^\d+ errors? occurred:$/.test(l));
  if (lines.length > 0) return lines.join(', ');
  const text = res.text.trim();
  if (text !== '' && text.length < 300 && res.json === undefined) return text;
  return `HTTP ${res.status}`;
}

export const isInvalidToken = (res: VaultResponse): boolean =>
  res.status === 403 && (res.json?.errors ?? []).some((e) => /invalid token|token (is )?expired/i.test(e));

function fullPath(s: VaultSettings, path: string): string {
  return s.namespace ? `${s.namespace.replace(/\/+$/, '')}/${path}` : path;
}

function authAdvice(s: VaultSettings): string {
  switch (s.auth.kind) {
    case 'token':
      return 'conf.fromCp.auth.token';
    case 'cert':
      return 'the policies of the cert auth role that conf.fromCp.auth.tls.clientCert logs in with';
    case 'agent':
      return "the Vault Agent's auto-auth token";
  }
}

export function responseFailure(s: VaultSettings, call: VaultCall, res: VaultResponse): CaError {
  const said = vaultMessage(res);
  const head = `Vault at ${s.address} answered ${res.status} to ${call.method} ${fullPath(s, call.path)}: ${said}`;
  const fail = (advice: string, retryable: boolean) => new CaError(advice ? `${head}; ${advice}` : head, retryable);
  const mount = `"${s.pki}"${s.namespace ? ` in namespace "${s.namespace}"` : ''}`;
  const pkiHint = s.pkiDefaulted ? ` (conf.fromCp.pki is not set, so the default "${s.pki}" is used)` : '';
  const roleHint = s.roleDefaulted ? ` (conf.fromCp.role is not set, so the default "${s.role}" is used)` : '';

  if (res.status === 403 && isInvalidToken(res)) {
    return fail(
      s.auth.kind === 'cert'
        ? 'the token from the certificate login is no longer valid and logging in again did not help; check the cert auth role (auth/cert/certs/...) and its token TTLs'
        : `the token is unknown, revoked or expired: put a valid token in ${authAdvice(s)}`,
      false,
    );
  }
  if (res.status === 403) {
    const cap = call.capability ?? 'read';
    return fail(
      `the token's policy does not grant "${cap}" on path "${fullPath(s, call.path)}" (e.g. path "${call.path}" { capabilities = ["create", "update"] }); ` +
        `Vault answers a wrong or revoked token, and a mount${pkiHint} the token may not see, with the same 403, so also check ${authAdvice(s)} and conf.fromCp.pki`,
      false,
    );
  }
  if (res.status === 404 && /no handler for route/.test(said)) {
    return fail(
      `no secrets engine is mounted at ${mount}${pkiHint}: enable it (vault secrets enable -path=${s.pki} pki) or fix conf.fromCp.pki`,
      false,
    );
  }
  if (res.status === 404) return fail(`is ${mount} a PKI secrets engine? check conf.fromCp.pki`, false);
  if (res.status === 400 && /unknown role/i.test(said)) {
    return fail(
      `role "${s.role}"${roleHint} does not exist in mount ${mount}: create it (vault write ${s.pki}/roles/${s.role} ...) or set conf.fromCp.role to the role that issues dataplane certificates`,
      false,
    );
  }
  if (res.status === 400 && /URI Subject Alternative Names/i.test(said)) {
    return fail(
      `role "${s.role}" must allow the dataplane URIs spiffe://<mesh>/<service> and kuma://<tag>/<value>: set its allowed_uri_sans, e.g. allowed_uri_sans="spiffe://<mesh>/*,kuma://*"`,
      false,
    );
  }
  if (res.status === 400 && /common_name field is required/i.test(said)) {
    return fail(
      `role "${s.role}" requires a common name: set conf.fromCp.commonName (e.g. '{{ tag "kuma.io/service" }}.mesh') or set require_cn=false on the role`,
      false,
    );
  }
  if (res.status === 400 && /common name .* not allowed/i.test(said)) {
    return fail(`allow that name in the role's allowed_domains (with allow_subdomains) or change conf.fromCp.commonName`, false);
  }
  if (res.status === 400 && /beyond the expiration of the CA/i.test(said)) {
    return fail('the CA expires before the requested certificate would: rotate the CA in Vault or lower dpCert.rotation.expiration', false);
  }
  if (res.status === 503) {
    return fail('Vault is sealed or unavailable: unseal it (vault operator unseal); zones retry this with backoff', true);
  }
  if (res.status === 429 || res.status >= 500) return fail('Vault answered with a server error; zones retry this with backoff', true);
  return fail('', false);
}

export function transportFailure(s: VaultSettings, call: VaultCall, err: unknown): CaError {
  if (err instanceof CaError) return err;
  const e = err instanceof VaultTransportError ? err : new VaultTransportError(String(err), 'EUNKNOWN');
  const tls = TLS_CODES.has(e.code) || e.code.startsWith('ERR_SSL_') || e.code.startsWith('ERR_TLS_');
  if (tls) {
    return new CaError(
      `TLS to Vault at ${s.address} does not verify: ${e.message} (${e.code}); set conf.fromCp.tls.caCert to the CA that signed Vault's listener certificate` +
        `${s.tls.servername ? '' : ', or tls.serverName to a name in it'} (tls.skipVerify is for development only)`,
      true,
      { cause: err },
    );
  }
  return new CaError(
    `cannot reach Vault at ${s.address} (${call.method} ${fullPath(s, call.path)}): ${e.message} (${e.code}); check conf.fromCp.address and that Vault is running (zones retry this with backoff)`,
    true,
    { cause: err },
  );
}

import { bool, mapping, text, url } from '../checks.js';
import type { DataSource } from '../datasource.js';
import type { FieldError } from '../errors.js';
import { at } from '../fields.js';
import { dataSourceField, type BackendSpec } from './spec.js';

export interface VaultConf {
  fromCp: {
    address: string;
    agentAddress?: string;
    namespace?: string;
    pki?: string;
    role?: string;
    commonName?: string;
    tls?: { caCert?: DataSource; skipVerify?: boolean; serverName?: string };
    auth: { token: DataSource; tls?: undefined } | { tls: { clientKey: DataSource; clientCert: DataSource }; token?: undefined };
  };
}

function vaultAuth(v: unknown, path: string, errors: FieldError[]): void {
  const auth = mapping(v, path, ['token', 'tls'], errors);
  if (!auth) return;
  const hasToken = auth.token !== undefined && auth.token !== null;
  const hasTls = auth.tls !== undefined && auth.tls !== null;
  if (hasToken && hasTls) {
    errors.push({
      field: path,
      message: 'set exactly one of token or tls, not both (remove tls to use the token, or remove token to use client certificates)',
    });
  } else if (!hasToken && !hasTls) {
    errors.push({ field: path, message: 'set one of token (a Vault token DataSource) or tls (clientKey and clientCert)' });
  }
  if (hasToken) dataSourceField(auth.token, at(path, 'token'), errors);
  if (hasTls) {
    const tls = mapping(auth.tls, at(path, 'tls'), ['clientKey', 'clientCert'], errors);
    if (tls) {
      dataSourceField(tls.clientKey, at(path, 'tls.clientKey'), errors, 'give the client private key used to log in to Vault');
      dataSourceField(tls.clientCert, at(path, 'tls.clientCert'), errors, 'give the client certificate used to log in to Vault');
    }
  }
}

/** A HashiCorp Vault (or OpenBao) PKI mount; each control plane talks to it (fromCp). */
export const vault: BackendSpec = {
  confRequired: true,
  validateConf(conf, path, errors) {
    const c = mapping(conf, path, ['fromCp'], errors, 'a vault backend');
    if (!c) return;
    const fp = at(path, 'fromCp');
    if (c.fromCp === undefined || c.fromCp === null) {
      errors.push({ field: fp, message: 'required; add fromCp with address and auth (the control plane talks to Vault)' });
      return;
    }
    const f = mapping(c.fromCp, fp, ['address', 'agentAddress', 'namespace', 'pki', 'role', 'commonName', 'tls', 'auth'], errors);
    if (!f) return;
    url(f.address, at(fp, 'address'), errors, 'https://vault.example.com:8200', 'give the Vault address, e.g. https://vault:8200');
    if (f.agentAddress !== '') url(f.agentAddress, at(fp, 'agentAddress'), errors, 'http://127.0.0.1:8100 (or leave it empty)');
    for (const key of ['namespace', 'pki', 'role', 'commonName']) text(f[key], at(fp, key), errors);
    if (f.tls !== undefined && f.tls !== null) {
      const tls = mapping(f.tls, at(fp, 'tls'), ['caCert', 'skipVerify', 'serverName'], errors);
      if (tls) {
        dataSourceField(tls.caCert, at(fp, 'tls.caCert'), errors);
        bool(tls.skipVerify, at(fp, 'tls.skipVerify'), errors);
        text(tls.serverName, at(fp, 'tls.serverName'), errors);
      }
    }
    if (f.auth === undefined || f.auth === null) {
      errors.push({ field: at(fp, 'auth'), message: 'required; set auth.token or auth.tls (clientKey and clientCert)' });
    } else vaultAuth(f.auth, at(fp, 'auth'), errors);
  },
  lifetimeCap: "the role's max_ttl",
};

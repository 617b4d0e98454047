import { mapping, text } from '../checks.js';
import { at } from '../fields.js';
import type { BackendSpec } from './spec.js';

export interface CertManagerConf {
  issuerName: string;
  issuerKind?: string;
  issuerGroup?: string;
}

/** A cert-manager issuer (Kubernetes only): parsed so its YAML applies, refused by the control planes. */
export const certManager: BackendSpec = {
  confAliases: ['certManager'],
  confRequired: true,
  validateConf(conf, path, errors) {
    const c = mapping(conf, path, ['issuerName', 'issuerKind', 'issuerGroup'], errors, 'a cert-manager backend');
    if (!c) return;
    text(c.issuerName, at(path, 'issuerName'), errors, 'name the cert-manager Issuer or ClusterIssuer');
    text(c.issuerKind, at(path, 'issuerKind'), errors);
    text(c.issuerGroup, at(path, 'issuerGroup'), errors);
  },
};

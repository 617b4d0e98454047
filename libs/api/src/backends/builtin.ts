import { duration, mapping, type DurationBounds } from '../checks.js';
import { parseDuration } from '../duration.js';
import { at, describe, isRecord } from '../fields.js';
import type { BackendSpec } from './spec.js';

export interface BuiltinConf {
  caCert?: { RSAbits?: number; expiration?: string };
}

export const RSA_BITS = [2048, 3072, 4096] as const;
const YEAR = 365 * 86400;
/** A builtin CA: 1 hour to 100 years (X.509 and the peers' time formats run out long after that). */
export const CA_EXPIRATION_BOUNDS: DurationBounds = { min: 3600, max: 100 * YEAR, why: 'the default is 10y' };
export const DEFAULT_BUILTIN_CA_EXPIRATION = '10y';

/** A CA global generates once per backend and syncs to zones as two Secrets. */
export const builtin: BackendSpec = {
  confRequired: false,
  validateConf(conf, path, errors) {
    if (conf === undefined || conf === null) return;
    const c = mapping(conf, path, ['caCert'], errors, 'a builtin backend');
    if (!c || c.caCert === undefined || c.caCert === null) return;
    const ca = mapping(c.caCert, at(path, 'caCert'), ['RSAbits', 'expiration'], errors);
    if (!ca) return;
    if (ca.RSAbits !== undefined && !(RSA_BITS as readonly unknown[]).includes(ca.RSAbits)) {
      errors.push({
        field: at(path, 'caCert.RSAbits'),
        message: `must be 2048, 3072 or 4096 (got ${describe(ca.RSAbits, at(path, 'caCert.RSAbits'))})`,
      });
    }
    duration(ca.expiration, at(path, 'caCert.expiration'), errors, CA_EXPIRATION_BOUNDS);
  },
  maxCertSeconds(backend) {
    const conf = isRecord(backend.conf) ? backend.conf : {};
    const expiration = isRecord(conf.caCert) ? conf.caCert.expiration : undefined;
    try {
      return parseDuration(typeof expiration === 'string' ? expiration : DEFAULT_BUILTIN_CA_EXPIRATION);
    } catch {
      return undefined;
    }
  },
  lifetimeCap: "the builtin CA's own lifetime (conf.caCert.expiration)",
};

// What the API knows of one type of CA backend: its conf's shape and rules, the other spellings
// the reference pages use, and what caps its certificates' lifetime. One file per backend here;
// what a control plane does with it (open, apply-time checks) is in libs/ca/src/<type>/.
import { validateDataSource } from '../datasource.js';
import type { FieldError } from '../errors.js';
import type { Obj } from '../fields.js';

export interface BackendSpec {
  /** Other names of the type a document may use (seed 002 writes `acm`). */
  typeAliases?: readonly string[];
  /** Keys a document may use instead of `conf` for this type (`acm:`, `certManager:`). */
  confAliases?: readonly string[];
  /** A backend of this type must have a conf block. */
  confRequired: boolean;
  /** Pushes what is wrong with `conf` (at `path`); `conf` may be undefined when not required. */
  validateConf(conf: unknown, path: string, errors: FieldError[]): void;
  /** The longest a certificate of this backend can live, when its conf says (a builtin CA's own lifetime). */
  maxCertSeconds?(backend: Obj): number | undefined;
  /** What caps a certificate's lifetime at this CA, for the message when a test certificate comes back short. */
  lifetimeCap?: string;
}

/** A DataSource field of a conf: checked when given; `required` says what to put there when it must be. */
export function dataSourceField(v: unknown, path: string, errors: FieldError[], required?: string): void {
  if (v === undefined || v === null) {
    if (required) errors.push({ field: path, message: `required; ${required}` });
    return;
  }
  validateDataSource(v, path, errors);
}

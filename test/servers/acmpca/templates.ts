import { invalidArgs } from './errors.js';

// What each end-entity template takes from where, per AWS's "template definitions" and
// "template order of operations" pages:
// - every EndEntity* template copies Subject and Subject Alternative Name from the CSR,
//   even the base one ("These values are still taken from the CSR even though the
//   template is not a CSR passthrough variety");
// - *_CSRPassthrough also copies the CSR's other extensions that the template does not define;
// - *_APIPassthrough takes Subject, SAN and other extensions from ApiPassthrough (which
//   win over the CSR's), and is the only kind that reads ApiPassthrough at all;
// - *_APICSRPassthrough does both; and the template's own values always win.
export interface Template {
  name: string;
  extendedKeyUsage: string[];
  csrPassthrough: boolean;
  apiPassthrough: boolean;
}

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

const BASES: Record<string, string[]> = {
  EndEntityCertificate: [SERVER_AUTH, CLIENT_AUTH],
  EndEntityClientAuthCertificate: [CLIENT_AUTH],
  EndEntityServerAuthCertificate: [SERVER_AUTH],
};

const VARIANTS: Record<string, { csrPassthrough: boolean; apiPassthrough: boolean }> = {
  '': { csrPassthrough: false, apiPassthrough: false },
  _CSRPassthrough: { csrPassthrough: true, apiPassthrough: false },
  _APIPassthrough: { csrPassthrough: false, apiPassthrough: true },
  _APICSRPassthrough: { csrPassthrough: true, apiPassthrough: true },
};

export const TEMPLATE_ARN_PREFIX = 'arn:aws:acm-pca:::template/';
export const DEFAULT_TEMPLATE_ARN = `${TEMPLATE_ARN_PREFIX}EndEntityCertificate/V1`;

/** Resolves a TemplateArn; IssueCertificate applies EndEntityCertificate/V1 when none is given. */
export function resolveTemplate(arn: unknown): Template {
  const value = arn === undefined || arn === null ? DEFAULT_TEMPLATE_ARN : arn;
  const m = typeof value === 'string' ? /^arn:aws[a-z-]*:acm-pca:::template\/([A-Za-z]+?)(_[A-Za-z]+)?\/V1$/.exec(value) : null;
  const base = m ? BASES[m[1]!] : undefined;
  const variant = m ? VARIANTS[m[2] ?? ''] : undefined;
  if (!m || !base || !variant) {
    throw invalidArgs(
      `The template ${String(value)} is not supported by this test server (it serves the EndEntityCertificate, EndEntityClientAuthCertificate and EndEntityServerAuthCertificate families).`,
    );
  }
  return { name: `${m[1]}${m[2] ?? ''}/V1`, extendedKeyUsage: base, ...variant };
}

import { mapping, text } from '../checks.js';
import type { DataSource } from '../datasource.js';
import { at, describe } from '../fields.js';
import { dataSourceField, type BackendSpec } from './spec.js';

export interface AcmpcaConf {
  arn: string;
  commonName?: string;
  caCert?: DataSource;
  auth?: { awsCredentials: { accessKey: DataSource; accessKeySecret: DataSource } };
}

const ACMPCA_ARN = /^arn:aws[a-z-]*:acm-pca:[^:\s]+:[^:\s]+:certificate-authority\/[^\s/]+$/;

/** An AWS ACM Private CA; seed 002 writes it `type: acm` with an `acm:` block. */
export const acmpca: BackendSpec = {
  typeAliases: ['acm'],
  confAliases: ['acm'],
  confRequired: true,
  validateConf(conf, path, errors) {
    const c = mapping(conf, path, ['arn', 'commonName', 'caCert', 'auth'], errors, 'an acmpca backend');
    if (!c) return;
    const arn = text(c.arn, at(path, 'arn'), errors, 'give the ARN of the ACM private CA');
    if (arn && !ACMPCA_ARN.test(arn)) {
      errors.push({
        field: at(path, 'arn'),
        message: `${describe(arn, at(path, 'arn'))} is not an ACM Private CA ARN; copy it from AWS, shaped like arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>`,
      });
    }
    text(c.commonName, at(path, 'commonName'), errors);
    dataSourceField(c.caCert, at(path, 'caCert'), errors);
    if (c.auth === undefined || c.auth === null) return;
    const auth = mapping(c.auth, at(path, 'auth'), ['awsCredentials'], errors);
    if (!auth) return;
    const cp = at(path, 'auth.awsCredentials');
    const creds =
      auth.awsCredentials === undefined
        ? (errors.push({
            field: cp,
            message:
              'required; set awsCredentials with accessKey and accessKeySecret, or remove auth to use the default AWS credential chain',
          }),
          undefined)
        : mapping(auth.awsCredentials, cp, ['accessKey', 'accessKeySecret'], errors);
    if (!creds) return;
    dataSourceField(creds.accessKey, at(cp, 'accessKey'), errors, 'give the AWS access key id');
    dataSourceField(creds.accessKeySecret, at(cp, 'accessKeySecret'), errors, 'give the AWS secret access key');
  },
  lifetimeCap: "the CA's own validity",
};

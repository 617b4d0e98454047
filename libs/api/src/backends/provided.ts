import { mapping } from '../checks.js';
import type { DataSource } from '../datasource.js';
import { at } from '../fields.js';
import { dataSourceField, type BackendSpec } from './spec.js';

export interface ProvidedConf {
  cert: DataSource;
  key: DataSource;
}

/** A CA the operator brings: its certificate and key from DataSources. */
export const provided: BackendSpec = {
  confRequired: true,
  validateConf(conf, path, errors) {
    const c = mapping(conf, path, ['cert', 'key'], errors, 'a provided backend');
    if (!c) return;
    dataSourceField(c.cert, at(path, 'cert'), errors, 'give the CA certificate (PEM) as secret, file, inline or inlineString');
    dataSourceField(c.key, at(path, 'key'), errors, 'give the CA private key (PEM) as secret, file, inline or inlineString');
  },
  lifetimeCap: "the provided CA's own validity",
};

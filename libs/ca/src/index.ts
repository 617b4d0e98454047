export * from './backend.js';
export * from './datasource.js';
export * from './apply-checks.js';
export * from './identity.js';
export {
  builtinCaWrites,
  builtinSecretNames,
  createBuiltinBackend,
  createLocalBackend,
  generateBuiltinCa,
  loadBuiltinCa,
  type CaMaterialPem,
  type CaSecretWrite,
  type LocalBackendOptions,
} from './builtin/index.js';
export { checkProvidedCa, createProvidedBackend } from './provided/index.js';
export * from './errors.js';
export * from './plugins.js';
export * from './ttl.js';
export * from './test-certificate.js';
export * from './meshidentity/ca-material.js';

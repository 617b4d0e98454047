export { builtinSecretNames, createBuiltinBackend, generateBuiltinCa, loadBuiltinCa } from './builtin.js';
export { createLocalBackend } from './local-backend.js';
export type { CaMaterialPem, LocalBackendOptions } from './local-backend.js';

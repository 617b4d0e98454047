export * from './backend.js';
export * from './datasource.js';
export * from './mesh-cas.js';
export * from './identity.js';
export * from './builtin/index.js';
export * from './provided/index.js';

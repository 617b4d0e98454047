export * from './backend.js';
export * from './datasource.js';
export * from './mesh-cas.js';

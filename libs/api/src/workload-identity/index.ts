export * from './meshidentity.js';
export * from './meshtrust.js';
export * from './meshtls.js';
export * from './secure-datasource.js';
export * from './spiffe.js';
export * from './kri.js';
export { parseTemplate, renderTemplate, type Template } from './template.js';
export * from './mesh-insight.js';

export * from './global-cp.js';
export * from './apply.js';

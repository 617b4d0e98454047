export * from './app.js';
export * from './errors.js';
export * from './auth.js';
export * from './body.js';
export * from './openapi.js';

export * from './resources.js';
export * from './admin-token.js';

export * from './free-port.js';
export * from './redis-server.js';
export * from './global-process.js';
export * from './zone-process.js';
export * from './mesh-env.js';
export * from './mesh-checks.js';
export * from './api-request.js';

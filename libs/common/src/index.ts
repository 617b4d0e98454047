export * from './logger.js';
export * from './server-tls.js';
export * from './flags.js';
export * from './server.js';
export * from './shutdown.js';
export * from './expiry-timer.js';
export * from './version.js';
export * from './canonical-json.js';

export * from './client.js';
export * from './config.js';

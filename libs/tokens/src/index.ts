export * from './issuer.js';
export * from './keyring.js';
export { decodeJwt } from './jwt.js';
export * from './published-keys.js';
export * from './keyring-service.js';
export * from './revocation-watch.js';

export { startVaultServer } from './server.js';
export type { VaultServer, VaultServerOptions, VaultServerStats } from './server.js';
export { glob } from './glob.js';
export { parseDurationSeconds, goDuration } from './duration.js';

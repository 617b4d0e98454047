export { createGui, guiAssetsDir, type Gui, type GuiOptions } from './router.js';
export type { GuiSource } from './source.js';
export { createDataplaneIndex, type DataplaneIndex, type DataplaneQuery } from './dataplane-index.js';
export type * from './contract.js';

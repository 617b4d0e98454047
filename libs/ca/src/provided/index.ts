import type { CaPlugin } from '../backend.js';
import { checkProvidedCa, createProvidedBackend } from './provided.js';

export { checkProvidedCa, createProvidedBackend } from './provided.js';

/** A CA the operator brings (certificate and key); checked on global, signs locally in zones. */
export const plugin: CaPlugin = {
  open: (ctx, env) => createProvidedBackend(ctx, env.pool ? { pool: env.pool } : {}),
  check: (ctx, field) => checkProvidedCa(ctx, field),
};

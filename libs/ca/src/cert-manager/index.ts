import type { CaPlugin } from '../backend.js';
import { CaError } from '../errors.js';

/** A cert-manager issuer: its YAML parses (the reference pages use it), but it needs Kubernetes. */
export const plugin: CaPlugin = {
  open: async (ctx) => {
    throw new CaError(
      `backend "${ctx.backend.name}" of mesh "${ctx.mesh}" is a cert-manager issuer, which needs Kubernetes; meshca cannot issue from it`,
      false,
    );
  },
  check: async (ctx, field) => [
    {
      field: `${field}.type`,
      message: `backend "${ctx.backend.name}" is a cert-manager issuer, which needs a Kubernetes cluster running cert-manager; meshca runs in Universal mode, so use builtin, provided, vault or acmpca`,
    },
  ],
};

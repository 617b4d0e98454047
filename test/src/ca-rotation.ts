// The state of a CA rotation as `meshctl inspect mesh` shows it: per backend and zone, how many
// dataplanes trust the backend and how many hold its certificates.
import type { BackendRotationState } from '@meshca/api';
import { eventually } from './eventually.js';
import type { MeshEnv } from './mesh-env.js';

/** One row of `meshctl inspect mesh -o json`. */
export type RotationRow = BackendRotationState;

export async function inspectMesh(env: MeshEnv, mesh = 'default'): Promise<{ enabledBackend: string | null; backends: RotationRow[] }> {
  const r = await env.meshctl('inspect', 'mesh', mesh, '-o', 'json');
  if (r.code !== 0) throw new Error(`meshctl inspect mesh failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as { enabledBackend: string | null; backends: RotationRow[] };
}

/** Polls `meshctl inspect mesh -o json` until, for every zone, `backend` has the counts wanted (of `dataplanes` each). */
export async function waitForRotation(
  env: MeshEnv,
  want: { backend: string; trusting?: 'all' | 'none'; holding?: 'all' | 'none' },
  zones: Record<string, number>,
  timeoutMs = 30_000,
): Promise<RotationRow[]> {
  return eventually(
    async () => {
      const rows = (await inspectMesh(env)).backends;
      const done = Object.entries(zones).every(([zone, n]) => {
        const row = rows.find((r) => r.backend === want.backend && r.zone === zone);
        if (row === undefined || row.dataplanes !== n) return false;
        const count = (w: 'all' | 'none' | undefined, v: number) => w === undefined || v === (w === 'all' ? n : 0);
        return count(want.trusting, row.trusting) && count(want.holding, row.holding);
      });
      if (!done) throw new Error(`rotation state not reached (${JSON.stringify(want)}): ${JSON.stringify(rows)}`);
      return rows;
    },
    timeoutMs,
    300,
  );
}

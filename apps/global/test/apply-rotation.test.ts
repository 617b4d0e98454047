// The rotation validators as global's apply runs them: a refusal stores nothing, and the override
// (query flag or Mesh label) lets the step through, is logged, and leaves no label behind.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseDocuments, ValidationError, type ResourceInput } from '@meshca/api';
import type { RotationView } from '@meshca/api';
import { createMemoryStore } from '@meshca/store';
import { fixture } from '@meshca/test/fixtures';
import { applyResource, FORCE_ROTATION_LABEL, type ApplyDeps } from '../src/apply.js';

const mesh = (enabled: string, labels?: Record<string, string>): ResourceInput => ({
  meta: { type: 'Mesh', name: 'default', ...(labels ? { labels } : {}) },
  spec: {
    mtls: {
      enabledBackend: enabled,
      backends: [
        { name: 'ca-1', type: 'builtin' },
        { name: 'ca-2', type: 'builtin' },
      ],
    },
  },
});

// One dataplane in z1 that does not trust ca-2 yet: a switch to ca-2 is too early.
const view: RotationView = {
  dataplanes: [{ zone: 'z1', name: 'a', connected: true, bundleBackends: ['ca-1'], certificateBackend: 'ca-1' }],
  offlineZones: [],
};

async function setup(): Promise<{ deps: ApplyDeps; warnings: Record<string, unknown>[] }> {
  const warnings: Record<string, unknown>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line) as Record<string, unknown>) });
  const deps: ApplyDeps = { store: createMemoryStore(), log, rotationView: async () => view };
  await applyResource(deps, mesh('ca-1'));
  return { deps, warnings };
}

describe('rotation validators in apply', () => {
  it('refuses a switch taken too soon and stores nothing', async () => {
    const { deps, warnings } = await setup();
    const before = await deps.store.get({ type: 'Mesh', name: 'default' });
    const err = await applyResource(deps, mesh('ca-2')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(String((err as ValidationError).message)).toContain('taken too soon');
    const stored = await deps.store.get({ type: 'Mesh', name: 'default' });
    expect(stored).toEqual(before);
    expect(warnings).toEqual([]);
  });

  it.each([
    { how: 'forceRotation option', input: mesh('ca-2'), opts: { forceRotation: true } },
    { how: 'Mesh label', input: mesh('ca-2', { [FORCE_ROTATION_LABEL]: 'true', team: 'x' }), opts: {} },
    {
      how: 'Kubernetes annotation',
      input: parseDocuments(fixture('mesh-kubernetes-force-rotation-annotation.yaml', { forceRotationLabel: FORCE_ROTATION_LABEL }))[0]!,
      opts: {},
    },
  ])('lets it through with the $how, logs what it skipped, and stores no override label', async ({ input, opts }) => {
    const { deps, warnings } = await setup();
    const { resource } = await applyResource(deps, input, opts);
    expect((resource?.spec as { mtls: { enabledBackend: string } }).mtls.enabledBackend).toBe('ca-2');
    expect(resource?.meta.labels).not.toHaveProperty(FORCE_ROTATION_LABEL);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ mesh: 'default', step: 'switch', msg: 'rotation validators overridden (force rotation)' });
    expect(String((warnings[0]?.skipped as string[])[0])).toContain('1 dataplane does not trust backend "ca-2" yet (zone "z1": 1 (a))');
  });

  it('does not override with a label of another value, and strips it anyway', async () => {
    const { deps } = await setup();
    await expect(applyResource(deps, mesh('ca-2', { [FORCE_ROTATION_LABEL]: 'false' }))).rejects.toThrow('taken too soon');
    const { resource } = await applyResource(deps, mesh('ca-1', { [FORCE_ROTATION_LABEL]: 'false', team: 'x' }));
    expect(resource?.meta.labels).toEqual({ team: 'x' });
  });
});

// Golden-output tests of meshctl's tables, as kumactl has: fixed resources at a fixed clock,
// rendered by the functions the commands use, compared with apps/ctl/test/golden/*.txt.
// UPDATE_GOLDEN=1 npx vitest run apps/ctl/test/golden.test.ts rewrites the files; review the diff.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderResources } from '../src/columns.js';
import { renderMeshInspection } from '../src/commands/inspect-mesh.js';
import { dataplaneRows, renderDataplaneRows } from '../src/commands/inspect-dataplanes.js';
import { formatTable } from '../src/output.js';
import { resolveKind } from '../src/kinds.js';
import { DATAPLANES, IDENTITY_VIEW, INSIGHTS, MESHES, NOW, PAYMENTS, SECRETS, ZONES } from './fixtures.js';

const GOLDEN = join(import.meta.dirname, 'golden');
const UPDATE = process.env.UPDATE_GOLDEN === '1';

function matchesGolden(name: string, actual: string): void {
  const file = join(GOLDEN, `${name}.txt`);
  if (UPDATE) {
    writeFileSync(file, actual);
    return;
  }
  if (!existsSync(file)) throw new Error(`no golden file ${file}; run UPDATE_GOLDEN=1 npx vitest run apps/ctl/test/golden.test.ts`);
  expect(actual, `${name}: differs from ${file}; if the change is meant, rerun with UPDATE_GOLDEN=1`).toBe(readFileSync(file, 'utf8'));
}

/** What `meshctl get KIND` prints for these items. */
const get = (kind: string, items: Record<string, unknown>[]): string => renderResources(resolveKind(kind).type, items, NOW);

describe('meshctl tables (golden files)', () => {
  it('get meshes', () => matchesGolden('get-meshes', get('meshes', MESHES)));
  it('get secrets', () => matchesGolden('get-secrets', get('secrets', SECRETS)));
  it('get zones', () => matchesGolden('get-zones', get('zones', ZONES)));
  it('get dataplanes', () => matchesGolden('get-dataplanes', get('dataplanes', DATAPLANES)));
  it('get dataplane-insights', () => matchesGolden('get-dataplane-insights', get('dataplane-insights', INSIGHTS)));
  it('inspect mesh', () => matchesGolden('inspect-mesh', renderMeshInspection('payments', PAYMENTS, INSIGHTS, 'table', NOW)));
  it('inspect mesh, moving to MeshIdentity', () =>
    matchesGolden('inspect-mesh-identity', renderMeshInspection('payments', PAYMENTS, INSIGHTS, 'table', NOW, IDENTITY_VIEW)));
  it('inspect dataplanes', () => {
    // The insights' mesh, so each Dataplane meets its insight (one has none yet, one no Dataplane).
    const dataplanes = DATAPLANES.map((d) => ({ ...d, mesh: 'payments' })) as unknown as Parameters<typeof dataplaneRows>[0];
    const { headers, cells } = renderDataplaneRows(
      dataplaneRows(dataplanes, INSIGHTS as unknown as Parameters<typeof dataplaneRows>[1]),
      NOW,
    );
    matchesGolden('inspect-dataplanes', formatTable(headers, cells));
  });
  it('inspect mesh, after Mesh.mtls is gone', () =>
    matchesGolden('inspect-mesh-identity-only', renderMeshInspection('payments', {}, INSIGHTS, 'table', NOW, IDENTITY_VIEW)));
});

describe('meshctl get dataplane-insights', () => {
  it('shows where each dataplane runs and its certificate, as kumactl inspect dataplanes does', () => {
    const [header, first] = get('dataplane-insights', INSIGHTS).split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['MESH', 'NAME', 'ZONE', 'CONNECTED', 'BACKEND', 'SERIAL', 'EXPIRES IN', 'LAST ERROR']);
    expect(first?.split(/\s{2,}/)).toEqual(['payments', 'zone-1.web-1', 'zone-1', 'yes', 'ca-2', '7f3a9c0e..', '23h59m', '-']);
  });

  it('renders the same table whatever the clock of the machine, given the same now', () => {
    expect(renderResources('DataplaneInsight', INSIGHTS, NOW)).toBe(renderResources('DataplaneInsight', structuredClone(INSIGHTS), NOW));
  });
});

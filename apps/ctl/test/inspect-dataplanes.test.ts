// meshctl inspect dataplanes: every page of a long list, and an offline zone's rows marked.
import { describe, expect, it } from 'vitest';
import type { ApiClient } from '../src/client.js';
import { dataplaneRows, renderDataplaneRows } from '../src/commands/inspect-dataplanes.js';
import { listAll } from '../src/paging.js';

describe('inspect dataplanes', () => {
  it('follows `next` to the last page', async () => {
    const pages: Record<string, { items: { name: string }[]; next: string | null }> = {
      '/dataplanes?size=1000': { items: [{ name: 'a' }, { name: 'b' }], next: '/dataplanes?size=1000&offset=2' },
      '/dataplanes?size=1000&offset=2': { items: [{ name: 'c' }], next: null },
    };
    const client = { call: async (_m: string, path: string) => ({ status: 200, body: pages[path] }) } as unknown as ApiClient;
    expect((await listAll<{ name: string }>(client, '/dataplanes?size=1000')).map((i) => i.name)).toEqual(['a', 'b', 'c']);
  });

  it("says an offline zone's dataplanes are unknown, not connected", () => {
    const rows = dataplaneRows(
      [],
      [
        { mesh: 'default', name: 'east.web-1', zone: 'east', connected: true },
        { mesh: 'default', name: 'west.api-1', zone: 'west', connected: true },
      ],
      new Set(['west']),
    );
    const { cells } = renderDataplaneRows(rows, Date.now());
    expect(cells.map((c) => [c[1], c[3]])).toEqual([
      ['east.web-1', 'yes'],
      ['west.api-1', 'unknown (zone offline)'],
    ]);
  });
});

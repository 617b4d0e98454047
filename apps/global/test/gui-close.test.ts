// A GUI page left open holds an event stream on global's API server; closing global ends it
// instead of waiting for the browser to go (close() used to hang until the process was killed).
import { mkdtemp, rm } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { createLogger } from '@meshca/common';
import { startGlobal } from '../src/global-cp.js';

it('ends open GUI event streams when it closes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'meshca-gui-close-'));
  try {
    const global = await startGlobal({
      dataDir: dir,
      apiAddress: '127.0.0.1',
      apiPort: 0,
      syncPort: 0,
      log: createLogger({ name: 't', level: 'silent', pretty: false }),
    });
    const ended = new Promise<string>((resolve) => {
      https
        .get(`${global.apiUrl}/gui/api/events`, { rejectUnauthorized: false }, (res) => {
          let text = '';
          res.on('data', (c: Buffer) => (text += c.toString()));
          res.on('end', () => resolve(text));
        })
        .on('error', () => resolve('error'));
    });
    await new Promise((r) => setTimeout(r, 300));
    const outcome = await Promise.race([
      global.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still open after 5 s'), 5000)),
    ]);
    expect(outcome).toBe('closed');
    expect(await ended).toMatch(/^event: change\ndata: \{"version":/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

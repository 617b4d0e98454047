// Which control plane meshctl talks to when nothing, or only part, is configured.
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ADDRESS, resolveConnection } from '../src/config.js';

async function emptyHome(): Promise<{ dir: string; env: NodeJS.ProcessEnv }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshctl-home-'));
  // No config file, and a data directory without a global in it.
  return { dir, env: { MESHCTL_CONFIG: join(dir, 'meshctl.yaml'), MESHCA_DATA_DIR: join(dir, 'global') } };
}

describe('meshctl connection defaults (as kumactl)', () => {
  it('uses https://localhost:5681 when no control plane is configured and no --address or MESHCA_ADDRESS is given', async () => {
    const { env } = await emptyHome();
    const conn = await resolveConnection({}, env);
    expect(DEFAULT_ADDRESS).toBe('https://localhost:5681');
    expect(conn).toMatchObject({ address: 'https://localhost:5681', defaulted: true, skipVerify: false });
    expect(conn.caCertFile).toBeUndefined();
  });

  it('trusts the API CA of a global started here with its default data directory, when that file exists', async () => {
    const { dir, env } = await emptyHome();
    await mkdir(join(dir, 'global'));
    await writeFile(join(dir, 'global', 'api-ca.pem'), 'ca');
    expect((await resolveConnection({}, env)).caCertFile).toBe(join(dir, 'global', 'api-ca.pem'));
    // A CA given explicitly wins, and so does a token file.
    const given = await resolveConnection({ caCertFile: join(dir, 'mine.pem'), tokenFile: join(dir, 'token') }, env);
    expect(given).toMatchObject({ caCertFile: join(dir, 'mine.pem'), tokenFile: join(dir, 'token'), defaulted: true });
  });

  it('does not use the default, nor the local CA, once an address is given or configured', async () => {
    const { dir, env } = await emptyHome();
    await mkdir(join(dir, 'global'));
    await writeFile(join(dir, 'global', 'api-ca.pem'), 'ca');
    const flagged = await resolveConnection({ address: 'https://127.0.0.1:7000' }, env);
    expect(flagged.address).toBe('https://127.0.0.1:7000');
    expect(flagged.defaulted).toBeUndefined();
    expect(flagged.caCertFile).toBeUndefined();
    await writeFile(env.MESHCTL_CONFIG!, 'current: g\ncontrolPlanes:\n- name: g\n  address: https://127.0.0.1:7001\n');
    expect(await resolveConnection({}, env)).toMatchObject({ name: 'g', address: 'https://127.0.0.1:7001' });
  });
});

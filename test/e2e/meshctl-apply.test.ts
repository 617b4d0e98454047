// End to end: a real meshca-global process, driven by the real meshctl binary, with the
// reference documents' YAML as written.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCa } from '@meshca/pki';
import { REPO_ROOT, runBin, startGlobalProcess, type GlobalProcess } from '../src/index.js';

const seeds = join(REPO_ROOT, 'libs/api/test/fixtures/seeds');
let global: GlobalProcess;
let env: Record<string, string>;

const meshctl = (...args: string[]) => runBin('meshctl', args, { env });

beforeAll(async () => {
  global = await startGlobalProcess();
  const home = await mkdtemp(join(tmpdir(), 'meshctl-'));
  env = { MESHCTL_CONFIG: join(home, 'meshctl.yaml') };
  const added = await meshctl('config', 'control-planes', 'add', '--name', 'g', '--address', global.apiUrl, '--token-file', global.tokenFile, '--ca-cert-file', global.caFile);
  expect(added.code, added.stderr).toBe(0);
});

afterAll(async () => {
  expect(await global.stop()).toBe(0);
});

describe('meshctl against a running global', () => {
  it('applies the builtin Mesh of the CA rotation page, in both forms', async () => {
    const universal = await meshctl('apply', '-f', join(seeds, '003-start-universal.yaml'));
    expect(universal.code, universal.stderr).toBe(0);
    expect(universal.stdout).toContain('Mesh "default" created');
    const kube = await meshctl('apply', '-f', join(seeds, '003-start-kubernetes.yaml'));
    expect(kube.code, kube.stderr).toBe(0);
    expect(kube.stdout).toContain('Mesh "default" updated');

    const table = await meshctl('get', 'meshes');
    expect(table.stdout).toMatch(/NAME\s+MTLS\s+BACKENDS/);
    expect(table.stdout).toMatch(/default\s+ca-1\s+ca-1\/builtin/);
    const json = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls: { enabledBackend: string } };
    expect(json.mtls.enabledBackend).toBe('ca-1');
  });

  it('applies the provided-CA steps of the rotation page once the secrets exist, reading multi-document stdin', async () => {
    const ca = await generateCa({ commonName: 'ca-2', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const secrets = `type: Secret\nname: ca-2-cert\nmesh: default\ndata: ${b64(ca.certPem)}\n---\ntype: Secret\nname: ca-2-key\nmesh: default\ndata: ${b64(ca.keyPem)}\n`;
    const applied = await runBin('meshctl', ['apply', '-f', '-'], { env, input: secrets });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toHaveLength(2);

    for (const step of ['003-step1-universal.yaml', '003-step2-universal.yaml', '003-step3-kubernetes.yaml']) {
      const r = await meshctl('apply', '-f', join(seeds, step));
      expect(r.code, `${step}: ${r.stderr}`).toBe(0);
    }
    const mesh = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls: { enabledBackend: string; backends: { name: string }[] } };
    expect(mesh.mtls.enabledBackend).toBe('ca-2');
    expect(mesh.mtls.backends.map((b) => b.name)).toEqual(['ca-2']);
  });

  it('refuses a bad apply with a non-zero exit and a reason naming the field, leaving the Mesh as it was', async () => {
    const before = (await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout;
    const dir = await mkdtemp(join(tmpdir(), 'bad-'));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'type: Mesh\nname: default\nmtls:\n  enabledBackend: ca-3\n  backends:\n  - name: ca-2\n    type: provided\n    config: {}\n');
    const r = await meshctl('apply', '-f', bad);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: /);
    expect(r.stderr).toContain('mtls.backends[0].config');
    expect((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout).toBe(before);
  });

  it('validates without storing on --dry-run', async () => {
    const r = await meshctl('apply', '--dry-run', '-f', join(seeds, '003-start-universal.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run');
    const mesh = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls: { enabledBackend: string } };
    expect(mesh.mtls.enabledBackend).toBe('ca-2');
  });

  it('refuses the vault example that sets both auth methods, saying which to remove', async () => {
    const r = await meshctl('apply', '-f', join(seeds, '001-vault-universal.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('mtls.backends[0].conf.fromCp.auth: set exactly one of token or tls');
  });

  it('deletes, and says so; a missing resource is a one-line error', async () => {
    const del = await meshctl('delete', 'mesh', 'default');
    expect(del.code, del.stderr).toBe(0);
    const missing = await meshctl('get', 'mesh', 'default');
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim().split('\n')).toHaveLength(1);
    expect(missing.stderr).toContain('not found');
  });

  it('never writes the admin token to its log', async () => {
    const { readFile } = await import('node:fs/promises');
    const token = (await readFile(global.tokenFile, 'utf8')).trim();
    expect(JSON.stringify(global.logs)).not.toContain(token);
    expect(global.logs.some((l) => typeof l.file === 'string' && String(l.msg).includes('admin token'))).toBe(true);
  });
});

// End to end: a real meshca-global process, driven by the real meshctl binary, with the
// reference documents' YAML as written.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCa } from '@meshca/pki';
import { configureMeshctl, fixtureFile, runBin, secretYaml, seedFile, startGlobalProcess, type GlobalProcess } from '../src/index.js';

let global: GlobalProcess;
let env: Record<string, string>;

const meshctl = (...args: string[]) => runBin('meshctl', args, { env });

beforeAll(async () => {
  global = await startGlobalProcess();
  env = await configureMeshctl(global);
});

afterAll(async () => {
  expect(await global.stop()).toBe(0);
});

describe('meshctl against a running global', () => {
  it('applies the builtin Mesh of the CA rotation page, in both forms', async () => {
    const universal = await meshctl('apply', '-f', seedFile('003-start-universal.yaml'));
    expect(universal.code, universal.stderr).toBe(0);
    expect(universal.stdout).toContain('Mesh "default" created');
    const kube = await meshctl('apply', '-f', seedFile('003-start-kubernetes.yaml'));
    expect(kube.code, kube.stderr).toBe(0);
    expect(kube.stdout).toContain('Mesh "default" updated');

    const table = await meshctl('get', 'meshes');
    expect(table.stdout).toMatch(/NAME\s+MTLS\s+BACKENDS/);
    expect(table.stdout).toMatch(/default\s+ca-1\s+ca-1\/builtin/);
    const json = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls: { enabledBackend: string } };
    expect(json.mtls.enabledBackend).toBe('ca-1');
  });

  it('applies the provided-CA steps of the rotation page once the secrets exist, reading multi-document stdin', async () => {
    const ca = generateCa({ commonName: 'ca-2', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    const secrets = secretYaml('ca-2-cert', ca.certPem) + '---\n' + secretYaml('ca-2-key', ca.keyPem);
    const applied = await runBin('meshctl', ['apply', '-f', '-'], { env, input: secrets });
    expect(applied.code, applied.stderr).toBe(0);
    expect(applied.stdout.trim().split('\n')).toHaveLength(2);

    for (const step of ['003-step1-universal.yaml', '003-step2-universal.yaml', '003-step3-kubernetes.yaml']) {
      const r = await meshctl('apply', '-f', seedFile(step));
      expect(r.code, `${step}: ${r.stderr}`).toBe(0);
    }
    const mesh = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as {
      mtls: { enabledBackend: string; backends: { name: string }[] };
    };
    expect(mesh.mtls.enabledBackend).toBe('ca-2');
    expect(mesh.mtls.backends.map((b) => b.name)).toEqual(['ca-2']);
  });

  it('refuses a bad apply with a non-zero exit and a reason naming the field, leaving the Mesh as it was', async () => {
    const before = (await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout;
    const r = await meshctl('apply', '-f', fixtureFile('mesh-bad-backend-config.yaml'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: /);
    expect(r.stderr).toContain('mtls.backends[0].config');
    expect((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout).toBe(before);
  });

  it('validates without storing on --dry-run', async () => {
    const r = await meshctl('apply', '--dry-run', '-f', seedFile('003-start-universal.yaml'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run');
    const mesh = JSON.parse((await meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls: { enabledBackend: string } };
    expect(mesh.mtls.enabledBackend).toBe('ca-2');
  });

  it('refuses the vault example that sets both auth methods, saying which to remove', async () => {
    const r = await meshctl('apply', '-f', seedFile('001-vault-universal.yaml'));
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

// What a new user runs into first: each of these was found trying meshctl without reading its code.
describe('meshctl edges, against a running global', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'meshctl-edges-'));
  });
  const lines = (text: string) => text.trimEnd().split('\n');

  it('apply without -f says how to give the file', async () => {
    const r = await meshctl('apply');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error: apply needs -f FILE (or -f - to read standard input)');
  });

  it('a file apply cannot read is named with the reason in words, not an errno', async () => {
    const missing = await meshctl('apply', '-f', join(dir, 'nope.yaml'));
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe(`Error: cannot read ${join(dir, 'nope.yaml')}: no such file`);
    const directory = await meshctl('apply', '-f', dir);
    expect(directory.code).toBe(1);
    expect(directory.stderr.trim()).toBe(`Error: cannot read ${dir}: is a directory`);
  });

  it('every apply error names the file and the document it came from; a cause without a field prints alone', async () => {
    // Mesh edge-1, an empty document, and a Secret in a mesh that does not exist.
    const file = fixtureFile('apply-errors-multi-document.yaml');
    const multi = await meshctl('apply', '-f', file);
    expect(multi.code).toBe(1);
    expect(multi.stdout).toContain('Mesh "edge-1" created');
    expect(lines(multi.stderr)[0]).toBe(`Error: ${file}, document 3: Resource is not valid`);
    expect(lines(multi.stderr)[1]).toMatch(/^ {2}mesh: mesh "nope" does not exist/);

    const shapeless = await runBin('meshctl', ['apply', '-f', '-'], { env, input: 'foo: bar\n' });
    expect(shapeless.code).toBe(1);
    expect(lines(shapeless.stderr)[0]).toBe('Error: standard input: Resource is not valid');
    expect(lines(shapeless.stderr)[1]).toMatch(/^ {2}set type and name/);
    expect(shapeless.stderr).not.toContain('  : ');

    const empty = join(dir, 'empty.yaml');
    await writeFile(empty, '');
    const none = await meshctl('apply', '-f', empty);
    expect(none.code).toBe(1);
    expect(lines(none.stderr)).toEqual([`Error: ${empty}: Input holds no resource`, '  no resource found; the input is empty']);
  });

  it('applies what get prints: a list (-o yaml and -o json) item by item, and one resource', async () => {
    const second = await runBin('meshctl', ['apply', '-f', '-'], { env, input: 'type: Mesh\nname: edge-2\n' });
    expect(second.code, second.stderr).toBe(0);
    for (const format of ['yaml', 'json']) {
      const listed = await meshctl('get', 'meshes', '-o', format);
      expect(listed.code, listed.stderr).toBe(0);
      const applied = await runBin('meshctl', ['apply', '-f', '-'], { env, input: listed.stdout });
      expect(applied.code, `-o ${format}: ${applied.stderr}`).toBe(0);
      expect(lines(applied.stdout)).toEqual(['Mesh "edge-1" updated', 'Mesh "edge-2" updated']);
    }
    const one = await meshctl('get', 'mesh', 'edge-1', '-o', 'yaml');
    const applied = await runBin('meshctl', ['apply', '-f', '-'], { env, input: one.stdout });
    expect(applied.code, applied.stderr).toBe(0);
    expect(lines(applied.stdout)).toEqual(['Mesh "edge-1" updated']);
  });

  it('get --help lists every type get accepts', async () => {
    const r = await meshctl('get', '--help');
    expect(r.code).toBe(0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const type of [
      'meshes',
      'secrets',
      'global-secrets',
      'meshidentities',
      'zones',
      'dataplanes',
      'dataplane-insights',
      'zone-insights',
    ]) {
      expect(help).toMatch(new RegExp(`[ :,]${type}[,. ]`));
    }
  });

  it('get in a mesh that does not exist says so and fails, rather than printing an empty table', async () => {
    for (const args of [
      ['get', 'dataplanes', '--mesh', 'nope'],
      ['get', 'dataplane-insights', '--mesh', 'nope'],
      ['get', 'dataplane', 'web-1', '--mesh', 'nope'],
    ]) {
      const r = await meshctl(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim()).toBe('Error: mesh "nope" does not exist; see meshctl get meshes');
    }
    const empty = await meshctl('get', 'dataplanes', '--mesh', 'edge-1');
    expect(empty.code, empty.stderr).toBe(0);
    expect(lines(empty.stdout)).toHaveLength(1);
  });

  it('a control plane whose certificate it cannot verify: says how to pass the CA', async () => {
    const r = await runBin('meshctl', ['--address', global.apiUrl, 'get', 'meshes'], { env: { MESHCTL_CONFIG: join(dir, 'none.yaml') } });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`cannot verify the certificate of the control plane at ${global.apiUrl}`);
    expect(r.stderr).toContain('--ca-cert-file');
  });
});

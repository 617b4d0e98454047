// Resources applied through meshctl and read back from global's API.
import { expect } from 'vitest';
import type { MeshEnv } from './mesh-env.js';

/** A Secret of `mesh` holding `text`, in YAML. */
export function secretYaml(name: string, text: string, mesh = 'default'): string {
  return `type: Secret\nname: ${name}\nmesh: ${mesh}\ndata: ${Buffer.from(text).toString('base64')}\n`;
}

export async function applyYaml(env: MeshEnv, yaml: string): Promise<void> {
  const r = await env.meshctlInput(yaml, 'apply', '-f', '-');
  expect(r.code, r.stderr).toBe(0);
}

/** Mesh Secrets of mesh `default`, applied through meshctl from their text. */
export async function applySecrets(env: MeshEnv, secrets: Record<string, string>): Promise<void> {
  await applyYaml(
    env,
    Object.entries(secrets)
      .map(([name, text]) => secretYaml(name, text))
      .join('---\n'),
  );
}

export async function getMesh(env: MeshEnv, name = 'default'): Promise<Record<string, unknown>> {
  return (await env.admin.call<Record<string, unknown>>('GET', `/meshes/${name}`)).body;
}

/** A refused apply leaves the Mesh as it was: same version, same mtls. */
export async function expectUnchanged(env: MeshEnv, before: Record<string, unknown>): Promise<void> {
  expect(await getMesh(env)).toEqual(before);
}

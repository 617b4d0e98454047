import { readFile } from 'node:fs/promises';
import { itemPath, parseDocuments, toUniversal, type ResourceInput } from '@meshca/api';
import type { ApiClient } from '../client.js';

export interface ApplyFlags {
  file: string[];
  dryRun?: boolean;
  forceRotation?: boolean;
}

/** Each document is one PUT, in file order, as kumactl does; the first refusal stops the rest. */
export async function applyCommand(client: ApiClient, flags: ApplyFlags): Promise<void> {
  const inputs: { source: string; input: ResourceInput }[] = [];
  for (const file of flags.file) {
    const text = file === '-' ? await readStdin() : await readFile(file, 'utf8');
    for (const input of parseDocuments(text)) inputs.push({ source: file, input });
  }
  if (inputs.length === 0) throw new Error(`no resources found in ${flags.file.join(', ')}`);
  for (const { input } of inputs) {
    const query = new URLSearchParams({ ...(flags.dryRun ? { dryRun: 'true' } : {}), ...(flags.forceRotation ? { forceRotation: 'true' } : {}) }).toString();
    const path = itemPath(input.meta.type, input.meta.name, input.meta.mesh) + (query ? `?${query}` : '');
    const { status } = await client.call('PUT', path, toUniversal(input));
    const what = `${input.meta.type} "${input.meta.name}"${input.meta.mesh ? ` in mesh "${input.meta.mesh}"` : ''}`;
    process.stdout.write(flags.dryRun ? `${what} is valid (dry run, nothing stored)\n` : `${what} ${status === 201 ? 'created' : 'updated'}\n`);
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

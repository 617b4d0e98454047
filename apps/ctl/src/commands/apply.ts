import { itemPath, parseLocatedDocuments, toUniversal, type ResourceInput } from '@meshca/api';
import type { ApiClient } from '../client.js';
import { readTextFile } from '../files.js';
import { SourcedError } from '../report.js';

export interface ApplyFlags {
  file: string[];
  dryRun?: boolean;
  forceRotation?: boolean;
}

/**
 * Each document (each item of a list, as `meshctl get -o yaml|json` prints one) is one PUT, in file
 * order, as kumactl does; the first refusal stops the rest. Every error names the file, and the
 * document in it, it came from.
 */
export async function applyCommand(client: ApiClient, flags: ApplyFlags): Promise<void> {
  if (flags.file.length === 0) throw new Error('apply needs -f FILE (or -f - to read standard input)');
  const inputs: { source: string; input: ResourceInput }[] = [];
  for (const file of flags.file) {
    const name = file === '-' ? 'standard input' : file;
    const text = file === '-' ? await readStdin() : await readTextFile(file);
    let located;
    try {
      located = parseLocatedDocuments(text);
    } catch (err) {
      throw new SourcedError(name, err);
    }
    for (const { where, input } of located) inputs.push({ source: where ? `${name}, ${where}` : name, input });
  }
  const query = new URLSearchParams({
    ...(flags.dryRun ? { dryRun: 'true' } : {}),
    ...(flags.forceRotation ? { forceRotation: 'true' } : {}),
  }).toString();
  for (const { source, input } of inputs) {
    const path = itemPath(input.meta.type, input.meta.name, input.meta.mesh) + (query ? `?${query}` : '');
    let status: number;
    try {
      ({ status } = await client.call('PUT', path, toUniversal(input)));
    } catch (err) {
      throw new SourcedError(source, err);
    }
    const what = `${input.meta.type} "${input.meta.name}"${input.meta.mesh ? ` in mesh "${input.meta.mesh}"` : ''}`;
    process.stdout.write(
      flags.dryRun ? `${what} is valid (dry run, nothing stored)\n` : `${what} ${status === 201 ? 'created' : 'updated'}\n`,
    );
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

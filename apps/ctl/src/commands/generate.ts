import type { ApiClient } from '../client.js';
import { readTextFile } from '../files.js';
import { printTable } from '../output.js';

function tokenText(text: string): string {
  if (text.trim() === '') throw new Error('the control plane answered without a token; is --address the global control plane?');
  return text.trim();
}

export async function generateZoneToken(client: ApiClient, flags: { zone: string; validFor: string }): Promise<void> {
  const text = await client.callText('POST', '/tokens/zone', { zone: flags.zone, validFor: flags.validFor });
  process.stdout.write(`${tokenText(text)}\n`);
}

/** `--tag kuma.io/service=web` (repeatable) becomes Kuma's `{ "kuma.io/service": ["web"] }`. */
export function parseTag(value: string, previous: Record<string, string[]>): Record<string, string[]> {
  const at = value.indexOf('=');
  if (at <= 0) throw new Error(`--tag "${value}" must be KEY=VALUE, e.g. kuma.io/service=web`);
  const key = value.slice(0, at);
  if (previous[key] !== undefined) throw new Error(`--tag ${key} is given twice; a token carries one value per tag`);
  return { ...previous, [key]: [value.slice(at + 1)] };
}

export async function generateDataplaneToken(
  client: ApiClient,
  flags: { mesh: string; name: string; tag: Record<string, string[]>; workload?: string; validFor: string },
): Promise<void> {
  const body = {
    mesh: flags.mesh,
    name: flags.name,
    validFor: flags.validFor,
    ...(Object.keys(flags.tag).length > 0 ? { tags: flags.tag } : {}),
    ...(flags.workload !== undefined ? { workload: flags.workload } : {}),
  };
  process.stdout.write(`${tokenText(await client.callText('POST', '/tokens/dataplane', body))}\n`);
}

export async function rotateSigningKey(client: ApiClient): Promise<void> {
  const { body } = await client.call<{ kid: string }>('POST', '/tokens/signing-keys/rotate');
  process.stdout.write(`signing key ${body.kid} added; it signs new tokens, older keys keep verifying until revoked\n`);
}

export async function listSigningKeys(client: ApiClient): Promise<void> {
  const { body } = await client.call<{ items: { kid: string; createdAt: string; revoked: boolean; signing: boolean }[] }>(
    'GET',
    '/tokens/signing-keys',
  );
  printTable(
    ['KID', 'CREATED', 'STATE'],
    body.items.map((k) => [k.kid, k.createdAt, k.revoked ? 'revoked' : k.signing ? 'signing' : 'verifying']),
  );
}

export async function revokeSigningKey(client: ApiClient, kid: string): Promise<void> {
  await client.call('POST', '/tokens/signing-keys/revoke', { kid });
  process.stdout.write(`signing key ${kid} revoked: every token it signed is refused\n`);
}

export async function revokeToken(client: ApiClient, flags: { file?: string; jti?: string }): Promise<void> {
  if ((flags.file === undefined) === (flags.jti === undefined))
    throw new Error('revoke token needs exactly one of --file FILE or --jti ID');
  const body = flags.jti !== undefined ? { jti: flags.jti } : { token: (await readTextFile(flags.file as string, 'token file')).trim() };
  const { body: answer } = await client.call<{ revoked: string }>('POST', '/tokens/revoke', body);
  process.stdout.write(`token ${answer.revoked} revoked\n`);
}

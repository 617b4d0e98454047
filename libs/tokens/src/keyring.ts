// The signing keys and revoked token ids: plain data, pure updates, and a JSON file (0600) in a directory.
import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';
import { ALG, createTokenIssuer, type Keyring, type SigningKey, type TokenIssuer } from './issuer.js';

export const KEYRING_FILE = 'token-signing-keys.json';

export async function generateSigningKey(now = new Date()): Promise<SigningKey> {
  const { privateKey } = await generateKeyPair(ALG, { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { kid: `${now.toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`, createdAt: now.toISOString(), jwk };
}

/** A keyring with one more (newest, signing) key; older keys keep verifying until revoked. */
export async function rotateKeyring(keyring: Keyring): Promise<Keyring> {
  const latest = keyring.keys.map((k) => Date.parse(k.createdAt)).reduce((a, b) => Math.max(a, b), 0);
  // Keep creation times strictly increasing so "newest" is never ambiguous.
  const key = await generateSigningKey(new Date(Math.max(Date.now(), latest + 1)));
  return { ...keyring, keys: [...keyring.keys, key] };
}

export function revokeKey(keyring: Keyring, kid: string): Keyring {
  if (!keyring.keys.some((k) => k.kid === kid)) throw new Error(`no signing key with kid "${kid}"`);
  return { ...keyring, keys: keyring.keys.map((k) => (k.kid === kid ? { ...k, revoked: true } : k)) };
}

export function revokeToken(keyring: Keyring, jti: string): Keyring {
  return keyring.revokedTokens.includes(jti) ? keyring : { ...keyring, revokedTokens: [...keyring.revokedTokens, jti] };
}

export function issuerFromKeyring(keyring: Keyring): TokenIssuer {
  return createTokenIssuer({ keys: keyring.keys, revoked: new Set(keyring.revokedTokens) });
}

export async function loadKeyring(dir: string): Promise<Keyring | undefined> {
  const file = join(dir, KEYRING_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const parsed = JSON.parse(text) as Partial<Keyring>;
  if (!Array.isArray(parsed.keys)) throw new Error(`${file}: "keys" must be a list of signing keys`);
  return { keys: parsed.keys, revokedTokens: Array.isArray(parsed.revokedTokens) ? parsed.revokedTokens : [] };
}

/** Writes atomically (temp file + rename) with mode 0600: the file holds private keys. */
export async function saveKeyring(dir: string, keyring: Keyring): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, KEYRING_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(keyring, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
}

/** Loads the keyring from `dir`, creating it with one fresh key when absent. */
export async function loadOrCreateKeyring(dir: string): Promise<Keyring> {
  const existing = await loadKeyring(dir);
  if (existing !== undefined) return existing;
  const keyring: Keyring = { keys: [await generateSigningKey()], revokedTokens: [] };
  await saveKeyring(dir, keyring);
  return keyring;
}

// cert.pem, key.pem and bundle.pem in one directory, each replaced atomically (temp file + rename),
// so a reader never sees half a file. The key is 0600 from the moment it exists.
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Identity } from './client.js';

export const FILES = { cert: 'cert.pem', key: 'key.pem', bundle: 'bundle.pem' } as const;

export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data, { mode, flush: true });
    await chmod(tmp, mode); // the umask may have narrowed or the file pre-existed
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Writes what changed: all three files for a new certificate, only bundle.pem for a new bundle. */
export async function writeIdentityFiles(dir: string, identity: Identity, change: 'certificate' | 'bundle'): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (change === 'certificate') {
    // Key before certificate: a reader that sees the new certificate finds its key already there.
    await writeFileAtomic(join(dir, FILES.key), identity.keyPem, 0o600);
    await writeFileAtomic(join(dir, FILES.cert), identity.certChainPem, 0o644);
  }
  await writeFileAtomic(join(dir, FILES.bundle), identity.bundlePem, 0o644);
}

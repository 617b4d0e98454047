import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import { loadOrCreateServerTls } from './server-tls.js';

export interface ServerTlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Where generated material lives when no files are given. */
  dir: string;
  name: string;
  /** Names a generated certificate covers (serverNames()). */
  hosts: string[];
  /** Says what happened to a generated certificate at this start. */
  log?: Logger;
}

/** The operator's certificate and key when given, else a generated one kept in `dir` (caFile tells clients what to trust). */
export async function serverTlsFromFilesOrGenerated(
  opts: ServerTlsFiles,
): Promise<{ certPem: string; keyPem: string; caFile: string | undefined }> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('--tls-cert and --tls-key go together: give both or neither');
    const [certPem, keyPem] = await Promise.all([readFile(opts.certFile, 'utf8'), readFile(opts.keyFile, 'utf8')]);
    return { certPem, keyPem, caFile: undefined };
  }
  return generatedServerTls(opts);
}

/** The generated certificate for `hosts`, with a log line when it was made, re-issued or could not be. */
export async function generatedServerTls(opts: Omit<ServerTlsFiles, 'certFile' | 'keyFile'>): Promise<{
  certPem: string;
  keyPem: string;
  caFile: string;
}> {
  const tls = await loadOrCreateServerTls({ dir: opts.dir, name: opts.name, hosts: opts.hosts });
  const e = tls.event;
  const what = `the ${opts.name} certificate (${opts.dir}/${opts.name}.pem)`;
  if (e?.kind === 'created') opts.log?.info({ names: tls.names, ca: tls.caFile }, `generated ${what} and its CA`);
  if (e?.kind === 'reissued')
    opts.log?.info({ added: e.added, ca: tls.caFile }, `re-issued ${what} for new names from the same CA: clients keep their CA file`);
  if (e?.kind === 'kept-without-ca-key')
    opts.log?.warn(
      { missing: e.missing, covers: tls.names },
      `${what} does not cover ${e.missing.join(', ')} and was made before meshca kept its CA key, so it cannot be re-issued from the same CA: remove ${opts.dir}/${opts.name}*.pem and .key to make a new CA (clients then need the new ${opts.name}-ca.pem), or pass your own certificate`,
    );
  return { certPem: tls.certPem, keyPem: tls.keyPem, caFile: tls.caFile };
}

export function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The URL clients on this host use: a wildcard bind is reached on loopback. */
export function localUrl(server: Server, address: string): string {
  const port = (server.address() as AddressInfo).port;
  const host = address === '0.0.0.0' || address === '::' ? '127.0.0.1' : address;
  return `https://${host}:${port}`;
}

import { readFile } from 'node:fs/promises';
import type { Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { loadOrCreateServerTls } from './server-tls.js';

export interface ServerTlsFiles {
  certFile?: string | undefined;
  keyFile?: string | undefined;
  /** Where generated material lives when no files are given. */
  dir: string;
  name: string;
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
  return loadOrCreateServerTls({ dir: opts.dir, name: opts.name, hosts: ['localhost', '127.0.0.1', '::1'] });
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

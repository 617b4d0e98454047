import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import type { GlobalProcess } from './global-process.js';

export interface ApiReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: unknown;
}

/** One HTTPS call to a control plane's API, trusting its generated CA, with the admin token unless told not to. */
export async function apiRequest(
  cp: Pick<GlobalProcess, 'apiUrl' | 'caFile' | 'tokenFile'>,
  method: string,
  path: string,
  body?: unknown,
  opts: { token?: boolean; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<ApiReply> {
  const ca = await readFile(cp.caFile, 'utf8');
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== false) headers.authorization = `Bearer ${(await readFile(cp.tokenFile, 'utf8')).trim()}`;
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  if (payload !== undefined) headers['content-type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, cp.apiUrl), { method, headers, ca, agent: false, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

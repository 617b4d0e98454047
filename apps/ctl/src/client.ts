import { readFile } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { ControlPlaneEntry } from './config.js';

export interface ApiErrorBody {
  status?: number;
  title?: string;
  detail?: string;
  causes?: { field: string; message: string }[];
}

/** An error answer of the control plane, kept whole so the CLI can print each failing field. */
export class ApiCallError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.detail ?? body.title ?? `HTTP ${status}`);
    this.name = 'ApiCallError';
  }
}

export interface ApiClient {
  call<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
}

export async function createClient(cp: ControlPlaneEntry): Promise<ApiClient> {
  const token = cp.tokenFile ? (await readFileOr(cp.tokenFile, 'token file')).trim() : undefined;
  const ca = cp.caCertFile ? await readFileOr(cp.caCertFile, 'CA certificate file') : undefined;
  const base = new URL(cp.address);
  const isHttps = base.protocol === 'https:';
  return {
    call(method, path, body, headers = {}) {
      const url = new URL(path, base);
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const opts = {
        method,
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...headers,
        },
        ...(isHttps ? { ca, rejectUnauthorized: !cp.skipVerify } : {}),
      };
      return new Promise((resolve, reject) => {
        const req = (isHttps ? httpsRequest : httpRequest)(url, opts, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = undefined;
            try {
              parsed = text ? JSON.parse(text) : undefined;
            } catch {
              parsed = { detail: text };
            }
            const status = res.statusCode ?? 0;
            if (status >= 400) reject(new ApiCallError(status, (parsed ?? {}) as ApiErrorBody));
            else resolve({ status, body: parsed as never });
          });
        });
        req.on('error', (err) => reject(new Error(`cannot reach the control plane at ${cp.address}: ${err.message}`)));
        req.end(payload);
      });
    },
  };
}

async function readFileOr(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    throw new Error(`cannot read the ${what} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

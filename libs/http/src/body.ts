// Request bodies: read only after the caller is authorised (routes put jsonBody after the auth
// check), bounded per route, JSON in UTF-8 only, not compressed, no duplicate keys (YAML refuses
// them too) and not nested deeper than a resource can be.
import express, { type RequestHandler } from 'express';
import { ApiError } from './errors.js';

/** Body limits per kind of request; a Mesh with every backend and inline CA fits well inside. */
export const BODY_LIMITS = {
  /** Mesh, Zone and the other small resources. */
  resource: 256 * 1024,
  /** Secret and GlobalSecret: base64 of a certificate chain or key bundle. */
  secret: 1024 * 1024,
  /** Token requests and the like. */
  small: 64 * 1024,
} as const;

/** Deeper nesting than any resource has; bounds the work of a hostile body. */
export const MAX_JSON_DEPTH = 32;

export function jsonBody(limitBytes: number): RequestHandler {
  const parse = express.json({ limit: limitBytes, strict: true, type: () => true, verify: (_req, _res, buf) => checkStructure(buf) });
  return (req, res, next) => {
    if (!hasBody(req.headers)) return next();
    const encoding = (req.get('content-encoding') ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity') {
      return next(
        new ApiError(
          415,
          'Unsupported content encoding',
          `Content-Encoding "${encoding.slice(0, 40)}" is not accepted; send the body uncompressed`,
        ),
      );
    }
    const type = req.get('content-type') ?? '';
    const [mime = '', ...params] = type.split(';').map((p) => p.trim().toLowerCase());
    if (mime !== 'application/json') {
      return next(
        new ApiError(
          415,
          'Unsupported media type',
          `send the body as JSON with "Content-Type: application/json" (got ${mime === '' ? 'no Content-Type' : `"${mime.slice(0, 60)}"`})`,
        ),
      );
    }
    const charset = params
      .find((p) => p.startsWith('charset='))
      ?.slice('charset='.length)
      .replace(/"/g, '');
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      return next(new ApiError(415, 'Unsupported charset', `the body must be UTF-8 (got charset "${charset.slice(0, 40)}")`));
    }
    parse(req, res, (err?: unknown) => next(err === undefined ? undefined : bodyError(err, limitBytes)));
  };
}

function hasBody(headers: Record<string, string | string[] | undefined>): boolean {
  return headers['transfer-encoding'] !== undefined || (headers['content-length'] !== undefined && headers['content-length'] !== '0');
}

/** body-parser's errors, as the API's own: what was wrong and what to do, never the body's content. */
function bodyError(err: unknown, limitBytes: number): unknown {
  if (err instanceof ApiError) return err;
  const type = (err as { type?: string }).type;
  if (type === 'entity.too.large') {
    return new ApiError(
      413,
      'Body too large',
      `the body is larger than this request allows (${Math.round(limitBytes / 1024)} KiB); a resource this large is not something meshca stores`,
    );
  }
  if (type === 'entity.parse.failed') return new ApiError(400, 'Malformed request body', 'the request body is not valid JSON');
  if (type === 'charset.unsupported' || type === 'encoding.unsupported')
    return new ApiError(415, 'Unsupported body encoding', 'send the body as uncompressed UTF-8 JSON');
  if (type === 'request.aborted' || type === 'request.size.invalid')
    return new ApiError(400, 'Incomplete request body', 'the body ended before its declared length');
  return err;
}

/**
 * Refuses duplicate keys in an object and nesting deeper than MAX_JSON_DEPTH, in one pass over
 * the raw text (JSON.parse would keep the last duplicate silently). Invalid JSON is left to the
 * parser that runs after this.
 */
export function checkStructure(buf: Buffer): void {
  const text = buf.toString('utf8');
  const keys: (Set<string> | undefined)[] = []; // one per open container; undefined for arrays
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const top = keys[keys.length - 1];
      if (expectKey && top !== undefined) {
        let key: string;
        try {
          key = JSON.parse(text.slice(i, j + 1)) as string;
        } catch {
          return;
        }
        if (top.has(key)) throw structureError(`the key ${JSON.stringify(key.slice(0, 60))} appears twice in one object; keep one`);
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (c === '{' || c === '[') {
      keys.push(c === '{' ? new Set() : undefined);
      if (keys.length > MAX_JSON_DEPTH) throw structureError(`the body is nested deeper than ${MAX_JSON_DEPTH} levels; no resource is`);
      expectKey = c === '{';
    } else if (c === '}' || c === ']') {
      keys.pop();
      expectKey = false;
    } else if (c === ',') {
      expectKey = keys[keys.length - 1] !== undefined;
    }
  }
}

function structureError(message: string): Error {
  return new ApiError(400, 'Malformed request body', message);
}

// Token endpoints, in Kuma's shape: the token comes back as text/plain. All need the admin token.
import express, { type Router } from 'express';
import { decodeJwt } from 'jose';
import { parseDuration } from '@meshca/api';
import { ZONE_NAME } from '@meshca/common';
import { ApiError, requireAdmin } from '@meshca/http';
import type { TokenService } from './tokens.js';

export const DEFAULT_ZONE_TOKEN_VALIDITY = '8760h';
export const DEFAULT_DATAPLANE_TOKEN_VALIDITY = '24h';

type Body = Record<string, unknown>;

export function tokensRouter(tokens: TokenService, adminToken: string): Router {
  const router = express.Router();
  router.use('/tokens', requireAdmin(adminToken));

  router.post('/tokens/zone', async (req, res) => {
    const body = bodyOf(req.body);
    const zone = text(body, 'zone');
    if (!ZONE_NAME.test(zone)) throw bad('zone', 'must be a DNS label: lowercase letters, digits and "-", at most 63 characters');
    const token = await tokens.issueZoneToken({ zone, validFor: validFor(body, DEFAULT_ZONE_TOKEN_VALIDITY) });
    res.type('text/plain').send(token);
  });

  router.post('/tokens/dataplane', async (req, res) => {
    const body = bodyOf(req.body);
    const mesh = text(body, 'mesh');
    const name = text(body, 'name');
    const tags = tagsOf(body.tags);
    const token = await tokens.issueDataplaneToken({ mesh, name, ...(tags === undefined ? {} : { tags }), validFor: validFor(body, DEFAULT_DATAPLANE_TOKEN_VALIDITY) });
    res.type('text/plain').send(token);
  });

  router.post('/tokens/revoke', async (req, res) => {
    const body = bodyOf(req.body);
    let jti: string | undefined = typeof body.jti === 'string' && body.jti !== '' ? body.jti : undefined;
    if (jti === undefined) {
      const token = text(body, 'token');
      try {
        const claims = decodeJwt(token.trim());
        jti = typeof claims.jti === 'string' ? claims.jti : undefined;
      } catch {
        throw bad('token', 'is not a meshca token (not a signed JWT)');
      }
      if (jti === undefined) throw bad('token', 'has no jti claim; it was not issued by meshca');
    }
    await tokens.revokeJti(jti);
    res.json({ revoked: jti });
  });

  router.get('/tokens/signing-keys', (_req, res) => {
    res.json({ items: tokens.keys() });
  });

  router.post('/tokens/signing-keys/rotate', async (_req, res) => {
    res.status(201).json(await tokens.rotate());
  });

  router.post('/tokens/signing-keys/revoke', async (req, res) => {
    const kid = text(bodyOf(req.body), 'kid');
    if (!tokens.keys().some((k) => k.kid === kid)) throw new ApiError(404, 'Not found', `no signing key with kid "${kid}"; GET /tokens/signing-keys lists them`);
    await tokens.revokeKey(kid);
    res.json({ items: tokens.keys() });
  });
  return router;
}

function bad(field: string, message: string): ApiError {
  return new ApiError(400, 'Bad token request', `${field} ${message}`, [{ field, message }]);
}

function bodyOf(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ApiError(400, 'Bad token request', 'the body must be a JSON object');
  return v as Body;
}

function text(body: Body, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.trim() === '') throw bad(field, 'is required (a non-empty string)');
  return v;
}

function validFor(body: Body, fallback: string): number {
  const v = body.validFor ?? fallback;
  if (typeof v !== 'string') throw bad('validFor', 'must be a duration such as 24h or 8760h');
  let seconds: number;
  try {
    seconds = parseDuration(v);
  } catch (err) {
    throw bad('validFor', (err as Error).message);
  }
  if (seconds < 1) throw bad('validFor', 'must be at least 1s');
  return seconds;
}

/** Kuma sends tags as `{key: [values]}`; one value per key is kept in the token. */
function tagsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('tags', 'must be an object of tag names to values');
  const out: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    const values = Array.isArray(value) ? value : [value];
    if (values.length !== 1 || typeof values[0] !== 'string') throw bad(`tags["${k}"]`, 'must be one string value');
    out[k] = values[0];
  }
  return out;
}

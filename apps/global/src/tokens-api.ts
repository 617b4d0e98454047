// Token endpoints, in Kuma's shape: the token comes back as text/plain. All need the admin token.
import express, { type Router } from 'express';
import { decodeJwt } from '@meshca/tokens';
import { nameProblem, parseDuration } from '@meshca/api';
import { ZONE_NAME } from '@meshca/tokens';
import { ApiError, BODY_LIMITS, jsonBody, requireAdmin } from '@meshca/http';
import type { TokenService } from '@meshca/tokens';

export const DEFAULT_ZONE_TOKEN_VALIDITY = '8760h';
export const DEFAULT_DATAPLANE_TOKEN_VALIDITY = '24h';
const MAX_VALIDITY_SECONDS = 10 * 365 * 86400;
const MAX_TAGS = 32;
const MAX_TAG_LENGTH = 253;
const PRINTABLE = /^[\x20-\x7e]+$/;
const JTI = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Body = Record<string, unknown>;

export function tokensRouter(tokens: TokenService, adminToken: string): Router {
  const router = express.Router();
  router.use('/tokens', requireAdmin(adminToken));

  const readBody = jsonBody(BODY_LIMITS.small);
  // Revoking the last key is allowed (a leaked key must always be revocable); signing is not then.
  const signer = () => {
    if (!tokens.keys().some((k) => k.signing)) {
      throw new ApiError(
        409,
        'No signing key',
        'every token signing key is revoked; add one with meshctl rotate signing-key (POST /tokens/signing-keys/rotate), then issue the token',
      );
    }
  };
  router.post('/tokens/zone', readBody, async (req, res) => {
    const body = bodyOf(req.body);
    signer();
    const zone = text(body, 'zone');
    if (!ZONE_NAME.test(zone)) throw bad('zone', 'must be a DNS label: lowercase letters, digits and "-", at most 63 characters');
    const token = await tokens.issueZoneToken({ zone, validFor: validFor(body, DEFAULT_ZONE_TOKEN_VALIDITY) });
    res.type('text/plain').send(token);
  });

  router.post('/tokens/dataplane', readBody, async (req, res) => {
    const body = bodyOf(req.body);
    signer();
    const mesh = resourceName(body, 'mesh');
    const name = resourceName(body, 'name');
    const tags = tagsOf(body.tags);
    const workload = workloadOf(body.workload);
    const token = await tokens.issueDataplaneToken({
      mesh,
      name,
      ...(tags === undefined ? {} : { tags }),
      ...(workload === undefined ? {} : { workload }),
      validFor: validFor(body, DEFAULT_DATAPLANE_TOKEN_VALIDITY),
    });
    res.type('text/plain').send(token);
  });

  // Revokes only what this control plane signed: a token whose signature verifies, or a jti
  // shaped like the ones it hands out.
  router.post('/tokens/revoke', readBody, async (req, res) => {
    const body = bodyOf(req.body);
    let jti: string;
    if (body.jti !== undefined) {
      jti = text(body, 'jti');
      if (!JTI.test(jti))
        throw bad('jti', 'is not the id of a meshca token (a UUID, as `meshctl` shows it); or send the token itself as token');
    } else {
      const token = text(body, 'token');
      if (token.length > 8192) throw bad('token', 'is longer than any meshca token');
      const checked = await tokens.issuer().verify(token);
      if (checked.ok) jti = checked.claims.jti;
      else if (checked.error.reason === 'revoked') {
        jti = String(decodeJwt(token.trim())?.payload.jti);
      } else if (checked.error.reason === 'expired') {
        throw bad(
          'token',
          `${checked.error.message.replace('; issue a new token', '')}: it is refused already, there is nothing to revoke`,
        );
      } else {
        throw bad('token', `is not a token this control plane signed (${checked.error.message})`);
      }
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

  router.post('/tokens/signing-keys/revoke', readBody, async (req, res) => {
    const kid = text(bodyOf(req.body), 'kid');
    if (!tokens.keys().some((k) => k.kid === kid))
      throw new ApiError(404, 'Not found', `no signing key with kid "${kid}"; GET /tokens/signing-keys lists them`);
    await tokens.revokeKey(kid);
    res.json({ items: tokens.keys() });
  });
  return router;
}

function bad(field: string, message: string): ApiError {
  return new ApiError(400, 'Bad token request', `${field} ${message}`, [{ field, message }]);
}

function bodyOf(v: unknown): Body {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw new ApiError(400, 'Bad token request', 'the body must be a JSON object');
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
  if (seconds > MAX_VALIDITY_SECONDS) throw bad('validFor', 'must be at most 10y; issue a new token before it expires instead');
  return seconds;
}

/** The kuma.io/workload value a token binds its dataplane to: a DNS-1035 label, as Kuma requires. */
function workloadOf(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v)) {
    throw bad('workload', 'must be a valid DNS-1035 label (at most 63 characters, matching regex [a-z]([-a-z0-9]*[a-z0-9])?)');
  }
  return v;
}

/** Kuma sends tags as `{key: [values]}`; one value per key is kept in the token. */
function tagsOf(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('tags', 'must be an object of tag names to values');
  const entries = Object.entries(v);
  if (entries.length > MAX_TAGS) throw bad('tags', `has ${entries.length} tags; a token restricts at most ${MAX_TAGS}`);
  const out: Record<string, string> = {};
  for (const [k, value] of entries) {
    const field = `tags[${JSON.stringify(k.slice(0, 60))}]`;
    if (k === '' || k.length > MAX_TAG_LENGTH || !PRINTABLE.test(k))
      throw bad(field, `tag names are 1 to ${MAX_TAG_LENGTH} printable characters`);
    const values = Array.isArray(value) ? value : [value];
    if (values.length !== 1 || typeof values[0] !== 'string') throw bad(field, 'must be one string value');
    if (values[0] === '' || values[0].length > MAX_TAG_LENGTH || !PRINTABLE.test(values[0]))
      throw bad(field, `tag values are 1 to ${MAX_TAG_LENGTH} printable characters`);
    out[k] = values[0];
  }
  return out;
}

/** A mesh or dataplane name, held to the rules of resource names. */
function resourceName(body: Body, field: string): string {
  const v = text(body, field);
  const problem = nameProblem(v);
  if (problem !== undefined) throw bad(field, problem);
  return v;
}

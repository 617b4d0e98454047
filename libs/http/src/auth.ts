import type { Request, RequestHandler } from 'express';
import { tokenMatches } from './admin-token.js';
import { ApiError } from './errors.js';

/**
 * The rule, as in Kuma: every write needs the admin token; reads are open from localhost and
 * need the token from anywhere else; secrets need the token from everywhere.
 */
export function presentedToken(req: Request): string | undefined {
  const header = req.get('authorization');
  if (!header) return undefined;
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return match?.[1]?.trim();
}

export function isLoopback(req: Request): boolean {
  const addr = req.socket.remoteAddress ?? '';
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

/** The request presents the admin token. */
export function hasAdminToken(req: Request, adminToken: string): boolean {
  const token = presentedToken(req);
  return token !== undefined && tokenMatches(adminToken, token);
}

export function requireAdmin(adminToken: string): RequestHandler {
  return (req, _res, next) => {
    const token = presentedToken(req);
    if (token === undefined) {
      next(
        new ApiError(
          401,
          'Unauthorized',
          'this request needs the admin token: send "Authorization: Bearer <token>" (meshctl: config control-planes add --token-file)',
        ),
      );
    } else if (!tokenMatches(adminToken, token)) {
      next(new ApiError(403, 'Forbidden', 'the admin token presented is not valid for this control plane'));
    } else next();
  };
}

export function requireReader(adminToken: string, sensitive: boolean): RequestHandler {
  const admin = requireAdmin(adminToken);
  return (req, res, next) => {
    if (!sensitive && isLoopback(req)) return next();
    admin(req, res, next);
  };
}

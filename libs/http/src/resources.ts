import express, { type Request, type Router } from 'express';
import { MESH_SCOPED, parseObject, redactInlineSecrets, toUniversal, WITH_STATUS, type ResourceKey, type ResourceType } from '@meshca/api';
import { NotFoundError, type ResourceStore } from '@meshca/store';
import type { Resource, ResourceInput } from '@meshca/api';
import { ROUTES, itemPath, type ResourceRoute } from '@meshca/api';
import { hasAdminToken, requireAdmin, requireReader } from './auth.js';
import { BODY_LIMITS, jsonBody } from './body.js';
import { ApiError } from './errors.js';

/** How writes are carried out; global passes its apply pipeline, zones pass none. */
export interface ResourceWriter {
  apply(
    input: ResourceInput,
    opts: { dryRun: boolean; expectedVersion: number | undefined; forceRotation: boolean },
  ): Promise<{ resource: Resource | undefined; created: boolean }>;
  remove(key: ResourceKey): Promise<void>;
}

export interface ResourceApiOptions {
  store: ResourceStore;
  adminToken: string;
  /** Absent on a zone: writes answer 405 with `readOnlyReason`. */
  writer?: ResourceWriter;
  readOnlyReason?: string;
  /** Resources never served, with why (a zone's own CA keys); lists leave them out. */
  hidden?: (r: Resource) => string | undefined;
  /** The read-only `status` of MeshIdentity and MeshTrust, computed when they are read. */
  status?: (r: Resource) => Promise<Record<string, unknown> | undefined>;
}

const MAX_PAGE = 1000;

/** GET (list and item), PUT and DELETE for every resource type, in Kuma's Universal shape. */
export function resourceRouter(opts: ResourceApiOptions): Router {
  const router = express.Router();
  const admin = requireAdmin(opts.adminToken);
  for (const route of ROUTES) {
    const read = requireReader(opts.adminToken, route.sensitive === true);
    // Reads open without the token (from localhost) see no inline key material.
    const shown = (req: Request) => async (r: Resource) => {
      const out = toUniversal(hasAdminToken(req, opts.adminToken) ? r : redactInlineSecrets(r));
      const status = opts.status && WITH_STATUS.has(r.meta.type) ? await opts.status(r) : undefined;
      return status === undefined ? out : { ...out, status };
    };
    router.get(route.collection, read, async (req, res) => {
      res.json(await listPage(opts, route, req, route.collection.includes(':mesh') ? String(req.params.mesh) : undefined, shown(req)));
    });
    if (route.all) {
      router.get(route.all, read, async (req, res) => {
        res.json(await listPage(opts, route, req, undefined, shown(req)));
      });
    }
    router.get(route.item, read, async (req, res) => {
      const key = keyOf(route.type, req);
      const resource = await opts.store.get(key);
      if (!resource) throw new NotFoundError(key);
      const hidden = opts.hidden?.(resource);
      if (hidden !== undefined) throw new ApiError(403, 'Not served', hidden);
      res.json(await shown(req)(resource));
    });
    const limit = route.type === 'Secret' || route.type === 'GlobalSecret' ? BODY_LIMITS.secret : BODY_LIMITS.resource;
    router.put(route.item, admin, jsonBody(limit), async (req, res) => {
      const key = keyOf(route.type, req);
      const input = parseObject(req.body, 'request body');
      if (input.meta.type !== key.type || input.meta.name !== key.name || input.meta.mesh !== key.mesh) {
        throw new ApiError(
          400,
          'Resource does not match the path',
          `the body describes ${input.meta.type} "${input.meta.name}"${input.meta.mesh ? ` in mesh "${input.meta.mesh}"` : ''} but the path is ${itemPath(key.type, key.name, key.mesh)}; make them agree`,
          [
            {
              field: input.meta.name !== key.name ? 'name' : input.meta.type !== key.type ? 'type' : 'mesh',
              message: 'must match the request path',
            },
          ],
        );
      }
      const result = await writer(route, opts).apply(input, {
        dryRun: req.query.dryRun === 'true',
        expectedVersion: ifMatch(req),
        forceRotation: req.query.forceRotation === 'true',
      });
      const body = result.resource ? toUniversal(result.resource) : {};
      res.status(result.created ? 201 : 200).json(body);
    });
    router.delete(route.item, admin, async (req, res) => {
      await writer(route, opts).remove(keyOf(route.type, req));
      res.status(200).json({});
    });
  }
  return router;
}

function writer(route: ResourceRoute, opts: ResourceApiOptions): ResourceWriter {
  if (!opts.writer) throw new ApiError(405, 'Read-only control plane', opts.readOnlyReason ?? 'this control plane does not accept writes');
  if (route.writtenBy === 'zones') {
    throw new ApiError(
      405,
      'Written by zones',
      `${route.type} resources are reported by zone control planes through the sync stream and cannot be written through this API`,
    );
  }
  if (route.writtenBy === 'global') {
    throw new ApiError(
      405,
      'Computed by global',
      `${route.type} resources are computed by global from what the zones report; they cannot be written`,
    );
  }
  return opts.writer;
}

function keyOf(type: ResourceType, req: Request): ResourceKey {
  const name = String(req.params.name);
  return MESH_SCOPED.has(type) ? { type, name, mesh: String(req.params.mesh) } : { type, name };
}

/** `If-Match: <version>` makes the write conditional (optimistic concurrency over HTTP). */
function ifMatch(req: Request): number | undefined {
  const raw = req.get('if-match');
  if (raw === undefined) return undefined;
  const version = Number(raw.replace(/^W\//, '').replace(/"/g, ''));
  if (!Number.isSafeInteger(version) || version < 0) {
    throw new ApiError(400, 'Bad If-Match header', 'If-Match must be the resource version number returned by a previous read');
  }
  return version;
}

async function listPage(
  opts: Pick<ResourceApiOptions, 'store' | 'hidden'>,
  route: ResourceRoute,
  req: Request,
  mesh: string | undefined,
  shown: (r: Resource) => Promise<unknown>,
) {
  const size = pageParam(req.query.size, 100, 'size', 1, MAX_PAGE);
  const offset = pageParam(req.query.offset, 0, 'offset', 0, Number.MAX_SAFE_INTEGER);
  const listed = await opts.store.list(route.type, mesh === undefined ? {} : { mesh });
  const all = opts.hidden ? listed.filter((r) => opts.hidden?.(r) === undefined) : listed;
  const items = await Promise.all(all.slice(offset, offset + size).map(shown));
  const nextOffset = offset + size;
  const next = nextOffset < all.length ? `${req.baseUrl}${req.path}?size=${size}&offset=${nextOffset}` : null;
  return { total: all.length, items, next };
}

function pageParam(raw: unknown, fallback: number, name: string, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new ApiError(400, 'Bad query parameter', `${name} must be a whole number from ${min} to ${max}`, [
      { field: name, message: `must be a whole number from ${min} to ${max}` },
    ]);
  }
  return n;
}

// The OpenAPI 3.0 descriptions of the HTTP APIs, kept as libs/http/openapi/{global,zone}.json
// (made by libs/http/openapi/generate.ts, checked against the express routes by the tests).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type OpenApiKind = 'global' | 'zone';

/** A parsed OpenAPI document (plain JSON data). */
export type OpenApiDocument = Record<string, unknown> & { openapi: string; paths: Record<string, Record<string, unknown>> };

// From the sources: libs/http/openapi. From a bundle: dist/openapi, which scripts/build.mjs fills
// (read on first request, so a control plane does not hold the documents until asked).
const OPENAPI_DIR =
  [join(import.meta.dirname, '..', 'openapi'), join(import.meta.dirname, 'openapi')].find((d) => existsSync(join(d, 'global.json'))) ??
  join(import.meta.dirname, '..', 'openapi');
const cache = new Map<OpenApiKind, OpenApiDocument>();

/** The path of the JSON file that holds the document of `kind`. */
export function openApiFile(kind: OpenApiKind): string {
  return join(OPENAPI_DIR, `${kind}.json`);
}

/**
 * The OpenAPI document of global's or the zone's API, read from its JSON file on first use and
 * kept. The same object is returned on every call: do not change it (serve it, e.g. `res.json(openApiDocument('global'))`).
 */
export function openApiDocument(kind: OpenApiKind): OpenApiDocument {
  let doc = cache.get(kind);
  if (doc === undefined) {
    doc = JSON.parse(readFileSync(openApiFile(kind), 'utf8')) as OpenApiDocument;
    cache.set(kind, doc);
  }
  return doc;
}

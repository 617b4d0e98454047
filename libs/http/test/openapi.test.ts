// The OpenAPI documents themselves: valid OpenAPI 3.0, made by generate.ts as committed, every
// $ref, path parameter and link resolves. test/openapi/routes.test.ts checks them against the routes,
// test/e2e/schemathesis.test.ts against a live global.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Validator } from '@seriousme/openapi-schema-validator';
import { parseObject, validateResource } from '@meshca/api';
import { buildOpenApi, documentText } from '../openapi/generate.js';
import { openApiDocument, openApiFile, type OpenApiKind } from '../src/openapi.js';

const KINDS: OpenApiKind[] = ['global', 'zone'];
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
type Json = Record<string, unknown>;

function resolve(doc: Json, pointer: string): unknown {
  if (!pointer.startsWith('#/')) throw new Error(`external $ref ${pointer}`);
  return pointer
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Json | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

function refs(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) node.forEach((n) => refs(n, out));
  else if (typeof node === 'object' && node !== null) {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refs(v, out);
    }
  }
  return out;
}

function operations(doc: Json): { path: string; method: string; op: Json }[] {
  return Object.entries(doc.paths as Record<string, Json>).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([m]) => METHODS.includes(m))
      .map(([method, op]) => ({ path, method, op: op as Json })),
  );
}

describe.each(KINDS)('OpenAPI document of %s', (kind) => {
  const doc = openApiDocument(kind) as unknown as Json;

  it('is what libs/http/openapi/generate.ts makes (run `npx tsx libs/http/openapi/generate.ts` after changing it)', () => {
    expect(readFileSync(openApiFile(kind), 'utf8')).toBe(documentText(kind));
    expect(doc).toEqual(buildOpenApi(kind));
  });

  it('is valid OpenAPI 3.0', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(doc));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.0');
  });

  it('resolves every $ref', () => {
    const unresolved = [...new Set(refs(doc))].filter((r) => resolve(doc, r) === undefined);
    expect(unresolved).toEqual([]);
  });

  it('declares each path parameter once per operation, names operations uniquely, and links to operations that exist', () => {
    const ops = operations(doc);
    const ids = ops.map(({ op }) => op.operationId as string);
    expect(new Set(ids).size).toBe(ids.length);
    for (const { path, method, op } of ops) {
      const where = `${method.toUpperCase()} ${path}`;
      const params = ((op.parameters ?? []) as Json[]).map((p) => (typeof p.$ref === 'string' ? resolve(doc, p.$ref) : p) as Json);
      const inPath = params
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      expect(inPath, where).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort());
      expect(Array.isArray(op.security), `${where} states its security`).toBe(true);
      const responses = op.responses as Record<string, Json>;
      // Writes that never succeed (zone-owned types, any write on a zone) answer 405 instead.
      expect(
        Object.keys(responses).some((c) => c.startsWith('2') || c === '405'),
        `${where} has a success answer or 405`,
      ).toBe(true);
      for (const [code, r] of Object.entries(responses)) {
        const resolved = (typeof r.$ref === 'string' ? resolve(doc, r.$ref) : r) as Json;
        // Every refusal has the error shape.
        if (Number(code) >= 400 && !(path === '/readyz' && code === '503')) {
          expect((resolved.content as Json)['application/json'], `${where} ${code}`).toEqual({
            schema: { $ref: '#/components/schemas/Error' },
          });
        }
        for (const [name, link] of Object.entries((resolved.links ?? {}) as Record<string, Json>)) {
          const target = ops.find(({ op: o }) => o.operationId === link.operationId);
          expect(target, `${where} ${code} link ${name} -> ${String(link.operationId)}`).toBeDefined();
          for (const p of Object.keys(link.parameters ?? {})) expect(target!.path, `link ${name} sets {${p}}`).toContain(`{${p}}`);
        }
      }
    }
  });

  it('documents what the brief of every API promises', () => {
    const paths = doc.paths as Record<string, Json>;
    for (const p of [
      '/',
      '/healthz',
      '/readyz',
      '/openapi.json',
      '/meshes',
      '/meshes/{name}',
      '/meshes/{mesh}/secrets/{name}',
      '/secrets',
      '/global-secrets/{name}',
      '/zones/{name}',
    ]) {
      expect(paths[p], p).toBeDefined();
    }
    const putMesh = paths['/meshes/{name}']!.put as Json;
    const codes = Object.keys(putMesh.responses as Json);
    if (kind === 'global') {
      expect(codes).toEqual(expect.arrayContaining(['200', '201', '400', '401', '403', '409', '412', '413', '415', '503']));
      for (const p of ['/tokens/zone', '/tokens/dataplane']) {
        expect(Object.keys((((paths[p]!.post as Json).responses as Json)['200'] as Json).content as Json)).toEqual(['text/plain']);
      }
      expect(Object.keys((paths['/meshes/{mesh}/dataplanes/{name}']!.put as Json).responses as Json)).toContain('405');
    } else {
      expect(codes).toEqual(['400', '405']);
      expect(paths['/status']?.get).toBeDefined();
      expect(paths['/tokens/zone']).toBeUndefined();
    }
  });

  it('gives resource examples the API accepts as they are', () => {
    const schemas = (doc.components as { schemas: Record<string, Json> }).schemas;
    const inputs = Object.entries(schemas).filter(([name]) => name.endsWith('Input'));
    expect(inputs.length).toBe(11);
    for (const [name, schema] of inputs) {
      expect(schema.example, name).toBeDefined();
      expect(validateResource(parseObject(schema.example)), name).toEqual([]);
    }
  });

  it('is read once and kept', () => {
    expect(openApiDocument(kind)).toBe(openApiDocument(kind));
    expect(openApiDocument(kind).openapi).toBe('3.0.3');
  });
});

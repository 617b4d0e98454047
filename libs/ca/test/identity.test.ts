import { describe, expect, it } from 'vitest';
import { identityUriSans, renderCommonName } from '../src/index.js';
import type { DataplaneIdentity } from '../src/index.js';

const web: DataplaneIdentity = {
  mesh: 'default',
  name: 'web-1',
  tags: { 'kuma.io/service': ['web', 'web-admin', 'web'], version: ['v2', 'v1'], 'kuma.io/zone': ['zone-a'] },
};

describe('identityUriSans', () => {
  it('gives one SPIFFE ID per service, then every tag value as kuma://, sorted and deduplicated', () => {
    expect(identityUriSans(web)).toEqual([
      'spiffe://default/web',
      'spiffe://default/web-admin',
      'kuma://kuma.io/service/web',
      'kuma://kuma.io/service/web-admin',
      'kuma://kuma.io/zone/zone-a',
      'kuma://version/v1',
      'kuma://version/v2',
    ]);
  });

  it('percent-encodes characters a URI cannot carry', () => {
    const sans = identityUriSans({ mesh: 'm', name: 'x', tags: { 'kuma.io/service': ['a b'], team: ['ü'] } });
    expect(sans).toEqual(['spiffe://m/a%20b', 'kuma://kuma.io/service/a%20b', 'kuma://team/%C3%BC']);
  });

  it('refuses a dataplane without a service, and a mesh name that is no trust domain', () => {
    expect(() => identityUriSans({ mesh: 'default', name: 'db-1', tags: { version: ['v1'] } })).toThrow(/db-1.*kuma.io\/service/);
    expect(() => identityUriSans({ mesh: 'Bad Mesh', name: 'x', tags: { 'kuma.io/service': ['a'] } })).toThrow(/trust domain/);
  });
});

describe('renderCommonName', () => {
  it("renders Kuma's documented template", () => {
    expect(renderCommonName('{{ tag "kuma.io/service" }}.mesh', web)).toBe('web.mesh');
    expect(renderCommonName('{{tag "version"}}-{{ tag `kuma.io/zone` }}', web)).toBe('v1-zone-a');
    expect(renderCommonName('  {{- tag "version" -}}  .x', web)).toBe('v1.x');
    expect(renderCommonName('static-name', web)).toBe('static-name');
  });

  it('refuses unknown directives, missing tags and overlong names', () => {
    expect(() => renderCommonName('{{ .Service }}.mesh', web)).toThrow(/unsupported directive "\{\{ \.Service \}\}"/);
    expect(() => renderCommonName('{{ tag "team" }}', web)).toThrow(/no tag "team"/);
    expect(() => renderCommonName('{{ tag "version" }', web)).toThrow(/unbalanced/);
    expect(() => renderCommonName(`${'x'.repeat(62)}.{{ tag "version" }}`, web)).toThrow(/1 to 64/);
  });
});

// What meshctl prints on error: what went wrong and where, then one line per failing field.
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@meshca/api';
import { ApiCallError } from '../src/client.js';
import { readProblem } from '../src/files.js';
import { KIND_NAMES, KINDS, resolveKind } from '../src/kinds.js';
import { report, SourcedError } from '../src/report.js';

const errno = (code: string) => Object.assign(new Error(`${code}: raw text`), { code });

describe('meshctl error reports', () => {
  it('prints a cause without a field path as its message alone, never as "  : message"', () => {
    const err = new ValidationError([{ field: '', message: 'no resource found; the input is empty' }], 'Input holds no resource');
    expect(report(err)).toBe('Error: Input holds no resource\n  no resource found; the input is empty');
    const api = new ApiCallError(400, {
      title: 'Resource is not valid',
      causes: [
        { field: '', message: 'the body is empty' },
        { field: 'mtls', message: 'bad' },
      ],
    });
    expect(report(api)).toBe('Error: Resource is not valid\n  the body is empty\n  mtls: bad');
  });

  it('names the file and document an apply error came from, before what went wrong', () => {
    const api = new ApiCallError(400, {
      title: 'Resource is not valid',
      causes: [{ field: 'mesh', message: 'mesh "nope" does not exist' }],
    });
    expect(report(new SourcedError('secrets.yaml, document 3', api))).toBe(
      'Error: secrets.yaml, document 3: Resource is not valid\n  mesh: mesh "nope" does not exist',
    );
    expect(report(new SourcedError('standard input', new Error('boom')))).toBe('Error: standard input: boom');
    expect(report(new ApiCallError(404, { title: 'Not Found', detail: 'Mesh "x" not found' }))).toBe(
      'Error: Not Found: Mesh "x" not found',
    );
  });

  it('says why a file cannot be read in words, not errno codes', () => {
    expect(readProblem(errno('ENOENT'))).toBe('no such file');
    expect(readProblem(errno('EACCES'))).toBe('permission denied');
    expect(readProblem(errno('EISDIR'))).toBe('is a directory');
    expect(readProblem(errno('EMFILE'))).toBe('EMFILE: raw text');
  });
});

describe('meshctl resource types', () => {
  it('lists every type it accepts, from the table it resolves them with', () => {
    for (const { plural, singular, type } of KINDS) {
      expect(resolveKind(plural).type).toBe(type);
      expect(resolveKind(singular).type).toBe(type);
      expect(KIND_NAMES).toContain(plural);
    }
    expect(() => resolveKind('meshs')).toThrow(`use one of: ${KIND_NAMES}`);
  });
});

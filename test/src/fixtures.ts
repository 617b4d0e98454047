// Fixture files: the YAML documents of test/fixtures, and the reference documents' examples in
// libs/api/test/fixtures/seeds (written by extract-seeds.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const FIXTURES = join(import.meta.dirname, '../fixtures');
export const SEEDS = join(import.meta.dirname, '../../libs/api/test/fixtures/seeds');

export const fixtureFile = (name: string): string => join(FIXTURES, name);

/** The text of test/fixtures/<name>, each `${key}` in it replaced by `vars[key]` (every one must be given). */
export function fixture(name: string, vars: Record<string, string> = {}): string {
  return readFileSync(fixtureFile(name), 'utf8').replace(/\$\{(\w+)\}/g, (_, key: string) => {
    const value = vars[key];
    if (value === undefined) throw new Error(`fixture ${name} needs a value for \${${key}}`);
    return value;
  });
}

export const seedFile = (name: string): string => join(SEEDS, name);
export const seedText = (name: string): string => readFileSync(seedFile(name), 'utf8');

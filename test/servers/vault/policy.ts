import { badRequest } from './errors.js';

export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';
const CAPABILITIES: readonly Capability[] = ['create', 'read', 'update', 'patch', 'delete', 'list', 'sudo', 'deny'];

export interface PathRule {
  /** Full path, namespace prefix included, leading slash removed. */
  path: string;
  capabilities: Set<Capability>;
}

export interface Policy {
  name: string;
  /** The HCL as written, returned by reads. */
  raw: string;
  rules: PathRule[];
}

/** The built-in "default" policy every non-root token carries (the subset that matters here). */
export const DEFAULT_POLICY_HCL = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`;

// ---- a small HCL reader: enough for `path "..." { capabilities = [...] }` and its neighbours

type Token = { kind: 'str' | 'ident' | 'num' | 'punct'; value: string; at: number };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) throw parseError(i, 'unterminated comment');
      i = end + 2;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      let value = '';
      while (j < src.length && src[j] !== '"') {
        if (src[j] === '\\') {
          const n = src[j + 1];
          value += n === 'n' ? '\n' : n === 't' ? '\t' : (n ?? '');
          j += 2;
        } else if (src[j] === '\n') {
          throw parseError(i, 'unterminated string');
        } else {
          value += src[j];
          j++;
        }
      }
      if (j >= src.length) throw parseError(i, 'unterminated string');
      out.push({ kind: 'str', value, at: i });
      i = j + 1;
      continue;
    }
    if ('{}[]=,:'.includes(c)) {
      out.push({ kind: 'punct', value: c, at: i });
      i++;
      continue;
    }
    const word = /^[A-Za-z0-9_.\-]+/.exec(src.slice(i));
    if (word) {
      out.push({ kind: /^-?\d/.test(word[0]) ? 'num' : 'ident', value: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw parseError(i, `illegal char ${JSON.stringify(c)}`);
  }
  return out;
}

function parseError(at: number, why: string) {
  return badRequest(`failed to parse policy: At offset ${at}: ${why}`);
}

type HclValue = string | number | boolean | HclValue[] | HclBlock;
type HclBlock = { kind: 'block'; entries: Array<{ keys: string[]; value: HclValue }> };

class Reader {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}
  peek(): Token | undefined {
    return this.toks[this.pos];
  }
  next(): Token {
    const t = this.toks[this.pos++];
    if (!t) throw parseError(-1, 'unexpected end of policy');
    return t;
  }
  expect(value: string): void {
    const t = this.next();
    if (t.value !== value || t.kind !== 'punct') throw parseError(t.at, `expected ${value}, got ${JSON.stringify(t.value)}`);
  }
  block(closing: string | null): HclBlock {
    const entries: HclBlock['entries'] = [];
    for (;;) {
      const t = this.peek();
      if (!t) {
        if (closing) throw parseError(-1, `missing ${closing}`);
        return { kind: 'block', entries };
      }
      if (closing && t.kind === 'punct' && t.value === closing) {
        this.pos++;
        return { kind: 'block', entries };
      }
      if (t.kind === 'punct' && t.value === ',') {
        this.pos++;
        continue;
      }
      const keys: string[] = [];
      while (this.peek()?.kind === 'str' || this.peek()?.kind === 'ident') keys.push(this.next().value);
      if (keys.length === 0) throw parseError(t.at, `unexpected ${JSON.stringify(t.value)}`);
      const after = this.peek();
      if (after?.kind === 'punct' && (after.value === '=' || after.value === ':')) {
        this.pos++;
        entries.push({ keys, value: this.value() });
      } else if (after?.kind === 'punct' && after.value === '{') {
        this.pos++;
        entries.push({ keys, value: this.block('}') });
      } else {
        throw parseError(after?.at ?? -1, 'expected = or {');
      }
    }
  }
  value(): HclValue {
    const t = this.next();
    if (t.kind === 'str') return t.value;
    if (t.kind === 'num') return Number(t.value);
    if (t.kind === 'ident' && (t.value === 'true' || t.value === 'false')) return t.value === 'true';
    if (t.kind === 'punct' && t.value === '{') return this.block('}');
    if (t.kind === 'punct' && t.value === '[') {
      const items: HclValue[] = [];
      for (;;) {
        const p = this.peek();
        if (p?.kind === 'punct' && p.value === ']') {
          this.pos++;
          return items;
        }
        if (p?.kind === 'punct' && p.value === ',') {
          this.pos++;
          continue;
        }
        items.push(this.value());
      }
    }
    throw parseError(t.at, `unexpected ${JSON.stringify(t.value)}`);
  }
}

/** Parses a policy document; `nsPath` ("" or "ns1/") prefixes every rule like Vault does. */
export function parsePolicy(name: string, raw: string, nsPath: string): Policy {
  const root = new Reader(tokenize(raw)).block(null);
  const rules: PathRule[] = [];
  for (const entry of root.entries) {
    if (entry.keys[0] !== 'path') continue;
    const pathKey = entry.keys[1];
    if (pathKey === undefined || typeof entry.value !== 'object' || Array.isArray(entry.value)) {
      throw badRequest('failed to parse policy: path block needs a quoted path and a body');
    }
    const capsEntry = entry.value.entries.find((e) => e.keys[0] === 'capabilities');
    const caps = new Set<Capability>();
    if (capsEntry) {
      if (!Array.isArray(capsEntry.value)) throw badRequest(`path ${JSON.stringify(pathKey)}: capabilities must be a list`);
      for (const c of capsEntry.value) {
        if (typeof c !== 'string' || !CAPABILITIES.includes(c as Capability)) {
          throw badRequest(`failed to parse policy: path ${JSON.stringify(pathKey)}: invalid capability ${JSON.stringify(c)}`);
        }
        caps.add(c as Capability);
      }
    }
    if (caps.has('deny')) (caps.clear(), caps.add('deny'));
    const path = nsPath + (pathKey.startsWith('/') ? pathKey.slice(1) : pathKey);
    rules.push({ path, capabilities: caps });
  }
  return { name, raw, rules };
}

// ---- evaluation: Vault's ACL precedence

function matches(pattern: string, path: string): boolean {
  const prefix = pattern.endsWith('*');
  const body = prefix ? pattern.slice(0, -1) : pattern;
  if (!body.includes('+')) return prefix ? path.startsWith(body) : path === body;
  const re = body
    .split('/')
    .map((seg) => (seg === '+' ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${re}${prefix ? '.*' : ''}$`, 's').test(path);
}

function firstWildcard(p: string): number {
  const idx = [p.indexOf('+'), p.endsWith('*') ? p.length - 1 : -1].filter((i) => i >= 0);
  return idx.length ? Math.min(...idx) : p.length;
}

/** >0 when a is the more specific rule (Vault's documented priority order). */
function comparePriority(a: string, b: string): number {
  const fa = firstWildcard(a),
    fb = firstWildcard(b);
  if (fa !== fb) return fa - fb;
  const sa = a.endsWith('*'),
    sb = b.endsWith('*');
  if (sa !== sb) return sa ? -1 : 1;
  const pa = a.split('/').filter((s) => s === '+').length;
  const pb = b.split('/').filter((s) => s === '+').length;
  if (pa !== pb) return pb - pa;
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Capabilities the policies grant on a full path: rules on the same path are unioned, the most specific path wins. */
export function capabilitiesFor(policies: Policy[], fullPath: string): Set<Capability> {
  const merged = new Map<string, Set<Capability>>();
  for (const p of policies) {
    for (const r of p.rules) {
      if (!matches(r.path, fullPath)) continue;
      const caps = merged.get(r.path) ?? new Set<Capability>();
      for (const c of r.capabilities) caps.add(c);
      merged.set(r.path, caps);
    }
  }
  let best: string | undefined;
  for (const path of merged.keys()) {
    if (best === undefined || comparePriority(path, best) > 0) best = path;
  }
  const caps = best === undefined ? new Set<Capability>() : (merged.get(best) ?? new Set<Capability>());
  return caps.has('deny') ? new Set<Capability>() : caps;
}

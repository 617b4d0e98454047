// The part of Go's text/template a MeshIdentity's spiffeID uses: text, `{{ .Field }}` and
// `{{ label "key" }}`, with `{{-` and `-}}` trimming. Anything else is refused at apply time with
// what is allowed (Kuma only finds a bad template when it renders it for a dataplane).

export type TemplatePart = { text: string } | { field: string } | { label: string };

export interface Template {
  readonly source: string;
  readonly parts: readonly TemplatePart[];
}

export type Parsed = { ok: true; template: Template } | { ok: false; error: string };
export type Rendered = { ok: true; value: string } | { ok: false; error: string };

const ACTION = /\{\{(-?)([\s\S]*?)(-?)\}\}/g;
const FIELD = /^\.([A-Za-z_][A-Za-z0-9_]*)$/;
const LABEL = /^label\s+(?:"((?:[^"\\]|\\.)*)"|`([^`]*)`)$/;

/** Parses `source`, allowing the variables in `fields` (without the dot). */
export function parseTemplate(source: string, fields: readonly string[]): Parsed {
  const parts: TemplatePart[] = [];
  let last = 0;
  let trimNext = false;
  const allowed = () => [...fields.map((f) => `{{ .${f} }}`), '{{ label "<key>" }}'].join(', ');
  for (const m of source.matchAll(ACTION)) {
    let text = source.slice(last, m.index);
    if (trimNext) text = text.trimStart();
    if (m[1] === '-') text = text.trimEnd();
    if (text.includes('{{') || text.includes('}}')) return { ok: false, error: 'has an unbalanced "{{" or "}}"' };
    if (text !== '') parts.push({ text });
    // Go needs a space between the trim marker and the action.
    const body = (m[2] ?? '').trim();
    const field = FIELD.exec(body);
    const label = LABEL.exec(body);
    if (field) {
      const name = field[1] ?? '';
      if (!fields.includes(name)) return { ok: false, error: `uses .${name}, which this template does not have; use ${allowed()}` };
      parts.push({ field: name });
    } else if (label) {
      parts.push({ label: label[1] !== undefined ? (JSON.parse(`"${label[1]}"`) as string) : (label[2] ?? '') });
    } else {
      return { ok: false, error: `has "{{ ${body} }}", which meshca does not render; use ${allowed()}` };
    }
    trimNext = m[3] === '-';
    last = (m.index ?? 0) + m[0].length;
  }
  let rest = source.slice(last);
  if (trimNext) rest = rest.trimStart();
  if (rest.includes('{{') || rest.includes('}}')) return { ok: false, error: 'has an unbalanced "{{" or "}}"' };
  if (rest !== '') parts.push({ text: rest });
  return { ok: true, template: { source, parts } };
}

/**
 * Renders as Go does for Kuma: a variable without a value renders empty; a `label` that is not
 * there is an error (Kuma's `label <key> not found`).
 */
export function renderTemplate(
  t: Template,
  vars: Readonly<Record<string, string | undefined>>,
  labels: Readonly<Record<string, string>>,
): Rendered {
  let out = '';
  for (const part of t.parts) {
    if ('text' in part) out += part.text;
    else if ('field' in part) out += vars[part.field] ?? '';
    else {
      const value = labels[part.label];
      if (value === undefined) return { ok: false, error: `label ${part.label} not found` };
      out += value;
    }
  }
  return { ok: true, value: out };
}

/** Whether the template reads this variable or label. */
export function templateUses(t: Template, what: { field?: string; label?: string }): boolean {
  return t.parts.some((p) => ('field' in p && p.field === what.field) || ('label' in p && p.label === what.label));
}

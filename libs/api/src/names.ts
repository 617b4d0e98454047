// Resource names as Kuma accepts them on both Kubernetes and Universal: DNS-1123-like.
const NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
export const MAX_NAME_LENGTH = 253;

/**
 * Undefined when `name` is valid, else what is wrong and what to do. `quote: false` where the text
 * may be a secret put in the wrong place (a token written where a Secret's name goes).
 */
export function nameProblem(name: string, quote = true): string | undefined {
  if (name === '') return 'is empty; give it a name such as "default" or "ca-1"';
  if (name.length > MAX_NAME_LENGTH) return `is ${name.length} characters long; use at most ${MAX_NAME_LENGTH}`;
  if (!NAME.test(name)) {
    const shown = quote ? JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name) : 'this';
    return `${shown} is not a valid name; use lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

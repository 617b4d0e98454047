// The bench scripts' command-line flags: `--name value`.

/** The value after `--name`, or undefined when the flag is absent. */
export function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The same, as a number. */
export function numberFlag(name: string): number | undefined {
  const v = flag(name);
  return v === undefined ? undefined : Number(v);
}

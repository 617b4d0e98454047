// Parsers for command-line flags shared by the control plane binaries (commander argParsers).
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '@meshca/api';

export function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

/** A duration flag (`2s`, `500ms`) in milliseconds. */
export function millis(value: string): number {
  try {
    const ms = Math.round(parseDuration(value) * 1000);
    if (ms < 1) throw new Error(`"${value}" is too short`);
    return ms;
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The flag's environment default, parsed like the flag. */
export function fromEnv<T>(name: string, parse: (v: string) => T): T | undefined {
  const v = process.env[name];
  return v === undefined || v === '' ? undefined : parse(v);
}

/** `--tls-san NAME|IP`, repeatable; the env form (MESHCA_TLS_SAN) is comma-separated. */
export function tlsSan(value: string, previous: string[] = []): string[] {
  const name = value.trim();
  if (!/^[A-Za-z0-9*.:-]+$/.test(name)) throw new Error(`--tls-san ${JSON.stringify(value)}: give a host name or an IP address`);
  return [...previous, name];
}

export const TLS_SAN_HELP =
  'add a host name or IP address to the generated certificates (repeatable); the host name, its FQDN and every interface address are in them already [MESHCA_TLS_SAN, comma-separated]';

/** The default of --tls-san: MESHCA_TLS_SAN split at commas. */
export function tlsSansFromEnv(): string[] {
  return (process.env.MESHCA_TLS_SAN ?? '')
    .split(',')
    .filter((s) => s.trim() !== '')
    .reduce<string[]>((acc, s) => tlsSan(s, acc), []);
}

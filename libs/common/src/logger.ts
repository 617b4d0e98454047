import { pino, type Logger } from 'pino';
import prettyStream from 'pino-pretty';

export type { Logger };

/**
 * Paths pino blanks out wherever they appear one or two levels deep: secret values,
 * tokens and keys must never reach a log line, even when a whole object is logged.
 */
const REDACT = [
  'token',
  'adminToken',
  'password',
  'key',
  'keyPem',
  'privateKey',
  'secret',
  'data',
  'authorization',
  'accessKey',
  'accessKeySecret',
  'clientKey',
  'inline',
  'inlineString',
  '*.token',
  '*.adminToken',
  '*.password',
  '*.key',
  '*.keyPem',
  '*.privateKey',
  '*.secret',
  '*.data',
  '*.authorization',
  '*.accessKey',
  '*.accessKeySecret',
  '*.clientKey',
  '*.inline',
  '*.inlineString',
  'req.headers.authorization',
  'req.headers["x-vault-token"]',
];

export interface LoggerOptions {
  name: string;
  level?: string;
  /** Force pretty or JSON; default: pretty when stderr is a TTY. */
  pretty?: boolean;
  /** JSON lines go here instead of stderr (tests read what would be logged). */
  destination?: { write(line: string): void };
}

export function createLogger(opts: LoggerOptions): Logger {
  const pretty = opts.destination === undefined && (opts.pretty ?? process.stderr.isTTY === true);
  return pino(
    {
      name: opts.name,
      level: opts.level ?? process.env.MESHCA_LOG_LEVEL ?? 'info',
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    // Pretty output is formatted in this thread (a pino transport would start a worker that loads
    // its target from node_modules by path, which a bundled binary does not have).
    opts.destination ?? (pretty ? prettyStream({ destination: 2, colorize: true, sync: true }) : pino.destination(2)),
  );
}

import { pino, type Logger } from 'pino';

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
      ...(pretty ? { transport: { target: 'pino-pretty', options: { destination: 2, colorize: true } } } : {}),
    },
    opts.destination ?? (pretty ? undefined : pino.destination(2)),
  );
}

import type { Logger } from './logger.js';

/** A stop that takes longer is cut short: supervisors and Ctrl-C expect a process gone within 5 s. */
export const STOP_DEADLINE_MS = 4000;

/**
 * Closes `target` and exits on SIGINT or SIGTERM, within STOP_DEADLINE_MS. Started through npm
 * (`npx meshca-global`, `npm start`), it also stops when its parent goes: npm runs a binary under
 * `sh -c`, which does not pass signals on, and a supervisor's SIGTERM to npm kills only that shell.
 * Without npm (systemd, a container, nohup) the parent is left alone.
 */
export function closeOnSignals(target: { close(): Promise<void> }, log: Logger): void {
  let stopping = false;
  const stop = async (reason: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal: reason }, 'shutting down');
    setTimeout(() => {
      log.warn({ deadlineMs: STOP_DEADLINE_MS }, 'did not stop in time; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS).unref();
    try {
      await target.close();
    } catch (err) {
      log.error({ err: err instanceof Error ? err.message : String(err) }, 'closing failed');
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
  if (process.env.npm_command !== undefined) {
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) void stop('parent exited');
    }, 500).unref();
  }
}

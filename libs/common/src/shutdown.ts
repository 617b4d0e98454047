import type { Logger } from './logger.js';

/** SIGINT/SIGTERM close `target` once and exit 0: a control plane's graceful shutdown. */
export function closeOnSignals(target: { close(): Promise<void> }, log: Logger): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    await target.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

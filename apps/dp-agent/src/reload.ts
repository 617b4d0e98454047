// After each rotation: run a command and/or signal a process, so the workload picks up the files.
import { spawn } from 'node:child_process';
import type { Logger } from '@meshca/common';

export interface ReloadOptions {
  command?: string;
  signalPid?: number;
  signal?: NodeJS.Signals;
  /** Extra environment for the command (paths of the files). */
  env?: Record<string, string>;
  log?: Logger;
  /** A signal that could not be sent or a command that failed (counted in the agent's metrics). */
  onFailure?: () => void;
}

/** Returns a trigger; rotations that arrive while a command runs coalesce into one more run. */
export function createReloader(opts: ReloadOptions): () => Promise<void> {
  let running: Promise<void> | undefined;
  let again = false;

  async function runOnce(): Promise<void> {
    if (opts.signalPid !== undefined) {
      try {
        process.kill(opts.signalPid, opts.signal ?? 'SIGHUP');
      } catch (err) {
        opts.log?.warn({ pid: opts.signalPid, err: (err as Error).message }, 'could not signal the process');
        opts.onFailure?.();
      }
    }
    if (opts.command === undefined) return;
    const command = opts.command;
    await new Promise<void>((resolve) => {
      const child = spawn(command, { shell: true, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, ...opts.env } });
      child.on('error', (err) => {
        opts.log?.warn({ err: err.message }, 'reload command could not start');
        opts.onFailure?.();
        resolve();
      });
      child.on('exit', (code, signal) => {
        if (code !== 0) {
          opts.log?.warn({ code, signal }, 'reload command failed');
          opts.onFailure?.();
        }
        resolve();
      });
    });
  }

  return async function trigger(): Promise<void> {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        await runOnce();
      } while (again);
    })();
    try {
      await running;
    } finally {
      running = undefined;
    }
  };
}

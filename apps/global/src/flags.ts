import { InvalidArgumentError } from 'commander';
import { parseDuration } from '@meshca/api';
import type { KdsLimits } from '@meshca/kds';

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

export interface KdsLimitFlags {
  kdsHeartbeatInterval?: number;
  kdsHeartbeatTimeout?: number;
}

export function kdsLimitOptions(flags: KdsLimitFlags): Partial<KdsLimits> {
  return {
    ...(flags.kdsHeartbeatInterval === undefined ? {} : { heartbeatIntervalMs: flags.kdsHeartbeatInterval }),
    ...(flags.kdsHeartbeatTimeout === undefined ? {} : { heartbeatTimeoutMs: flags.kdsHeartbeatTimeout }),
  };
}

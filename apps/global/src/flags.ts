import type { KdsLimits } from '@meshca/kds';

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

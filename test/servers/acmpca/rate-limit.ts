// One token bucket per operation: ACM PCA's quotas are per API action.
export interface RateLimiter {
  /** False when the call is over the rate and must be throttled. */
  take(operation: string): boolean;
}

export function createRateLimiter(ratePerSecond: number | undefined, now: () => number = Date.now): RateLimiter {
  if (ratePerSecond === undefined || ratePerSecond <= 0) return { take: () => true };
  const capacity = Math.max(1, ratePerSecond);
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    take(operation) {
      const t = now();
      const b = buckets.get(operation) ?? { tokens: capacity, at: t };
      b.tokens = Math.min(capacity, b.tokens + ((t - b.at) / 1000) * ratePerSecond);
      b.at = t;
      buckets.set(operation, b);
      if (b.tokens < 1) return false;
      b.tokens -= 1;
      return true;
    },
  };
}

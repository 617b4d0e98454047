/** At most `max` calls of `run` at once; the rest wait in arrival order. */
export interface Limiter {
  run<T>(fn: () => Promise<T>): Promise<T>;
  readonly inFlight: number;
  readonly queued: number;
}

export function createLimiter(max: number): Limiter {
  if (!Number.isInteger(max) || max < 1) throw new Error(`maxInFlight must be a positive integer, got ${max}`);
  let active = 0;
  const waiting: Array<() => void> = [];
  const release = (): void => {
    const next = waiting.shift();
    if (next) next();
    else active -= 1;
  };
  return {
    async run<T>(fn: () => Promise<T>): Promise<T> {
      // A released slot passes straight to the next waiter, so `active` never over-counts.
      if (active < max) active += 1;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await fn();
      } finally {
        release();
      }
    },
    get inFlight() {
      return active;
    },
    get queued() {
      return waiting.length;
    },
  };
}

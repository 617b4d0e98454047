// One token bucket for all issuances of a zone, so a fleet reconnecting or a CA switch cannot flood
// the CA (Vault's /issue and ACM PCA are slow and throttle). Waiters are served in arrival order.

export interface RateLimitOptions {
  /** Sustained issuances per second. */
  ratePerSecond: number;
  /** Issuances allowed at once after a quiet period. */
  burst: number;
}

export interface RateLimiter {
  /** Resolves when one issuance may start. */
  acquire(): Promise<void>;
  /** Waiters not yet admitted. */
  readonly waiting: number;
  close(): void;
}

export function createRateLimiter(opts: RateLimitOptions): RateLimiter {
  if (!(opts.ratePerSecond > 0)) throw new Error(`issuance.ratePerSecond must be positive, got ${opts.ratePerSecond}`);
  if (!(opts.burst >= 1)) throw new Error(`issuance.burst must be at least 1, got ${opts.burst}`);
  let tokens = opts.burst;
  let last = performance.now();
  const queue: (() => void)[] = [];
  let head = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;

  function refill(): void {
    const t = performance.now();
    tokens = Math.min(opts.burst, tokens + ((t - last) * opts.ratePerSecond) / 1000);
    last = t;
  }

  function drain(): void {
    timer = undefined;
    refill();
    while (head < queue.length && tokens >= 1) {
      tokens -= 1;
      const resolve = queue[head];
      queue[head++] = noop;
      resolve?.();
    }
    if (head > 1024 && head * 2 > queue.length) {
      queue.splice(0, head);
      head = 0;
    }
    if (head < queue.length && !closed) {
      const waitMs = Math.max(1, ((1 - tokens) * 1000) / opts.ratePerSecond);
      timer = setTimeout(drain, waitMs);
    }
  }

  return {
    acquire() {
      if (closed) return Promise.reject(new Error('issuance rate limiter closed'));
      refill();
      if (head === queue.length && tokens >= 1) {
        tokens -= 1;
        return Promise.resolve();
      }
      return new Promise<void>((resolve) => {
        queue.push(resolve);
        if (timer === undefined) drain();
      });
    },
    get waiting() {
      return queue.length - head;
    },
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
    },
  };
}

function noop(): void {}

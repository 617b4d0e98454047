// When to renew and when to retry. Randomised so a fleet issued together does not renew together.

/** Renewal at a random point between 50% and 80% of the certificate's remaining lifetime from issuance. */
export function renewDelayMs(issuedAt: number, notAfter: number, random: () => number = Math.random): number {
  const lifetime = Math.max(0, notAfter - issuedAt);
  return lifetime * (0.5 + 0.3 * random());
}

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** Exponential backoff with "equal jitter": between half and all of base * 2^(attempt-1), capped. */
export function backoffMs(attempt: number, opts: BackoffOptions, random: () => number = Math.random): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, attempt - 1));
  return ceiling / 2 + (ceiling / 2) * random();
}

/**
 * A retry must not wait past the renewal margin of a still-valid certificate: when it would, retry
 * no later than 90% of the way to notAfter, so a CA that comes back in time is used in time.
 */
export function retryDelayMs(
  attempt: number,
  opts: BackoffOptions,
  now: number,
  notAfter: number | undefined,
  random: () => number = Math.random,
): number {
  const delay = backoffMs(attempt, opts, random);
  if (notAfter === undefined || notAfter <= now) return delay;
  return Math.max(Math.min(opts.baseMs, delay), Math.min(delay, (notAfter - now) * 0.9));
}

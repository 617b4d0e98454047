// The one polling helper of the test suites. It imports nothing, so unit tests can load it alone
// (`@meshca/test/eventually`) and the fault runs of `npm run bench` can use it outside vitest.
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Calls `check` every `intervalMs` until it returns without throwing (an assertion that becomes
 * true) and resolves with what it returned; after `timeoutMs` it rethrows the last error.
 * The default interval is short because some states tests look for last only a moment (an error a
 * reconnect replaces); pass a longer one when a check is costly.
 */
export async function eventually<T>(check: () => T | Promise<T>, timeoutMs = 15_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await sleep(intervalMs);
    }
  }
}

// Revoking a dataplane token (or its signing key) on global reaches connections that are already
// open: global publishes revocations in one GlobalSecret, KDS brings it here, and each change
// re-checks every open connection against it (the zone passes how: its identity service's revalidate).
import type { Logger } from '@meshca/common';
import type { ResourceStore } from '@meshca/store';
import { TOKEN_VERIFICATION_SECRET, type PublishedTokenKeys } from './published-keys.js';

/** Closes what revoked tokens opened: given the revocation check, returns how many connections it closed. */
export type Revalidate = (revoked: (claims: { jti: string; kid: string }) => string | undefined) => number;

export function enforceTokenRevocations(deps: {
  store: ResourceStore;
  keys: PublishedTokenKeys;
  revalidate: Revalidate;
  log: Logger;
}): () => void {
  const { store, keys, log } = deps;
  let stopped = false;
  let stopWatch: () => void = () => {};
  // One re-check at a time; changes that arrive during one are covered by one more after it.
  let running: Promise<void> | undefined;
  let again = false;

  const recheck = (): void => {
    if (running) {
      again = true;
      return;
    }
    running = (async () => {
      do {
        again = false;
        const revoked = await keys.revocations();
        if (stopped) return;
        const closed = deps.revalidate(revoked);
        if (closed > 0) log.info({ closed }, 'closed dataplane connections whose tokens were revoked on global');
      } while (again && !stopped);
    })()
      .catch((err: unknown) => log.error({ err: String(err) }, 're-checking dataplane tokens after a revocation failed'))
      .finally(() => {
        running = undefined;
      });
  };

  const watch = async (): Promise<void> => {
    const from = await store.revision();
    if (stopped) return;
    stopWatch = store.watch(
      from,
      (event) => {
        if (event.key.type === 'GlobalSecret' && event.key.name === TOKEN_VERIFICATION_SECRET) recheck();
      },
      () => {
        // Changes were missed: re-check once and follow from now on.
        recheck();
        void watch();
      },
    );
  };
  void watch();
  return () => {
    stopped = true;
    stopWatch();
  };
}

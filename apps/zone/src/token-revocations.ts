// Revoking a dataplane token (or its signing key) on global reaches connections that are already
// open: global publishes revocations in one GlobalSecret, KDS brings it here, and each change
// re-checks every open dataplane connection against it.
import type { Logger } from '@meshca/common';
import { TOKEN_VERIFICATION_SECRET, type PublishedTokenKeys } from '@meshca/http';
import type { IdentityService } from '@meshca/identity';
import type { ResourceStore } from '@meshca/store';

export function enforceTokenRevocations(deps: { store: ResourceStore; keys: PublishedTokenKeys; identity: IdentityService; log: Logger }): () => void {
  const { store, keys, identity, log } = deps;
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
        const closed = identity.revalidate((c) => (c.jti !== undefined && c.kid !== undefined ? revoked({ jti: c.jti, kid: c.kid }) : undefined));
        if (closed > 0) log.info({ closed }, 'closed dataplane connections whose tokens were revoked on global');
      } while (again && !stopped);
    })().catch((err: unknown) => log.error({ err: String(err) }, 're-checking dataplane tokens after a revocation failed'))
      .finally(() => {
        running = undefined;
      });
  };

  const watch = async (): Promise<void> => {
    const from = await store.revision();
    if (stopped) return;
    stopWatch = store.watch(from, (event) => {
      if (event.key.type === 'GlobalSecret' && event.key.name === TOKEN_VERIFICATION_SECRET) recheck();
    }, () => {
      // Changes were missed: re-check once and follow from now on.
      recheck();
      void watch();
    });
  };
  void watch();
  return () => {
    stopped = true;
    stopWatch();
  };
}

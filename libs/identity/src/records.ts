// What the zone writes of its dataplanes to its store (and so to global): the Dataplane as
// registered, and its DataplaneInsight with the certificate state, batched.
import type { ResourceKey } from '@meshca/api';
import type { Logger } from '@meshca/common';
import type { ResourceStore } from '@meshca/store';
import type { Session } from './session.js';
import { removeIfPresent, updateIfOurs, upsert } from './store-writes.js';

export interface Records {
  writeDataplane(s: Session, spec: { networking: unknown }): Promise<void>;
  /** Removes its Dataplane and DataplaneInsight (gone past its grace period). */
  remove(s: Session): Promise<void>;
  /** Its insight changed: written at the next flush. */
  touch(s: Session): void;
  forget(s: Session): void;
  /** Writes every touched insight now. */
  flush(): Promise<void>;
  close(): void;
}

/** Insight writes in flight at once: enough to overlap Redis round trips, few enough to stay fair. */
const CONCURRENCY = 32;

export function createRecords(opts: {
  store: ResourceStore;
  log: Logger;
  zone: string;
  /** Touched insights are written at most this often. */
  intervalMs: number;
  /** Whether this session is still the current one of its dataplane. */
  current(s: Session): boolean;
}): Records {
  const { store, log } = opts;
  const dirty = new Set<Session>();
  let flushing: Promise<void> | undefined;

  async function writeDataplane(s: Session, spec: { networking: unknown }): Promise<void> {
    try {
      s.records.dpVersion = await upsert(
        store,
        { meta: { type: 'Dataplane', mesh: s.identity.mesh, name: s.identity.name, labels: s.identity.labels ?? {} }, spec: spec },
        s.records.dpVersion,
      );
    } catch (err) {
      log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'storing Dataplane failed; retrying');
      // The store may be back in a moment (a Redis restarting): try again while it is connected.
      setTimeout(() => {
        if (opts.current(s) && s.link.ws !== undefined) void writeDataplane(s, spec);
      }, opts.intervalMs * 5).unref();
    }
  }

  async function flush(): Promise<void> {
    while (flushing) await flushing;
    const batch = [...dirty];
    dirty.clear();
    flushing = (async () => {
      let next = 0;
      const worker = async () => {
        while (next < batch.length) {
          const s = batch[next++] as Session;
          if (!opts.current(s)) continue;
          try {
            const input = {
              meta: { type: 'DataplaneInsight' as const, mesh: s.identity.mesh, name: s.identity.name },
              spec: insightSpec(s, opts.zone),
            };
            s.records.insightVersion =
              s.link.ws === undefined
                ? await updateIfOurs(store, input, s.records.insightVersion)
                : await upsert(store, input, s.records.insightVersion);
          } catch (err) {
            dirty.add(s); // written at the next flush
            log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'writing DataplaneInsight failed; retrying');
          }
        }
      };
      await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
    })();
    try {
      await flushing;
    } finally {
      flushing = undefined;
    }
  }

  const timer = setInterval(() => {
    if (dirty.size > 0 && !flushing) void flush();
  }, opts.intervalMs);
  timer.unref();

  return {
    writeDataplane,
    async remove(s) {
      const keys: [ResourceKey, number | undefined][] = [
        [{ type: 'Dataplane', mesh: s.identity.mesh, name: s.identity.name }, s.records.dpVersion],
        [{ type: 'DataplaneInsight', mesh: s.identity.mesh, name: s.identity.name }, s.records.insightVersion],
      ];
      try {
        // Only what this replica wrote last: a dataplane that moved to another replica stays.
        for (const [key, ours] of keys) await removeIfPresent(store, key, ours);
        log.debug({ mesh: s.identity.mesh, dataplane: s.identity.name }, 'dataplane gone: removed');
      } catch (err) {
        log.error({ mesh: s.identity.mesh, dataplane: s.identity.name, err: String(err) }, 'removing Dataplane failed');
      }
    },
    touch: (s) => void dirty.add(s),
    forget: (s) => void dirty.delete(s),
    flush,
    close: () => clearInterval(timer),
  };
}

/** A DataplaneInsight: Kuma's `mTLS` names, plus the serial and the last error. */
export function insightSpec(s: Session, zone: string): Record<string, unknown> {
  const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
  const { link, held, plan, trust } = s;
  return {
    zone,
    connected: link.ws !== undefined,
    connectedAt: iso(link.connectedAt),
    ...(link.disconnectedAt !== undefined && link.ws === undefined ? { disconnectedAt: iso(link.disconnectedAt) } : {}),
    csr: link.csr,
    mTLS: {
      ...(held.backend !== undefined ? { issuedBackend: held.backend } : {}),
      ...(held.serial !== undefined ? { certificateSerial: held.serial } : {}),
      ...(held.notAfter !== undefined ? { certificateExpirationTime: iso(held.notAfter) } : {}),
      ...(held.lastIssuedAt !== undefined ? { lastCertificateRegeneration: iso(held.lastIssuedAt) } : {}),
      ...(held.facts !== undefined ? { certificate: held.facts } : {}),
      certificateRegenerations: held.regenerations,
      supportedBackends: trust.bundle?.bundleBackends ?? [],
      ...(trust.bundle
        ? { trustedCaFingerprints: trust.bundle.caFingerprints }
        : trust.reported
          ? { trustedCaFingerprints: [...trust.reported] }
          : {}),
      ...(trust.bundle?.retiredRoots ? { retiredRoots: trust.bundle.retiredRoots } : {}),
      ...(plan.lastError !== undefined ? { lastError: plan.lastError } : {}),
      ...(plan.pending !== undefined ? { pending: plan.pending } : {}),
    },
  };
}

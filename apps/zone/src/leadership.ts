// Replicas of one zone share a store; one of them, the leader, holds the KDS stream to global and
// writes the ZoneInsight. Every replica serves dataplanes. The leader's writes go through a store
// fenced by its term, so once another replica leads, a paused old leader writes nothing.
import type { Logger } from '@meshca/common';
import { idleKdsStatus, type KdsClient, type KdsClientStatus } from '@meshca/kds';
import { createLeaderElection, type ResourceStore } from '@meshca/store';

export interface ZoneLeadership extends KdsClient {
  /** This replica's id. */
  readonly replica: string;
  /** Who leads this zone, as this replica last saw it. */
  leader(): { replica: string; me: boolean } | undefined;
}

export function startZoneLeadership(opts: {
  store: ResourceStore;
  zone: string;
  replica: string;
  leaseMs?: number;
  log: Logger;
  /** The stream to global, writing through `store`. */
  kds(store: ResourceStore): KdsClient;
  /** The leader's other work (the ZoneInsight writer), writing through `store`. */
  lead(store: ResourceStore, kds: KdsClient): { stop(): Promise<void> };
}): ZoneLeadership {
  let client: KdsClient | undefined;
  let work: { stop(): Promise<void> } | undefined;
  let last: KdsClientStatus = idleKdsStatus();
  // The counts of the streams of earlier terms: this replica's counters only grow.
  const past = { connects: 0, bytesSent: 0, bytesReceived: 0 };
  // Terms start and end in order: a new term's stream never runs beside the old one's.
  let transitions: Promise<void> = Promise.resolve();
  let election: ReturnType<typeof createLeaderElection> | undefined;

  const stopLeading = async () => {
    const [c, w] = [client, work];
    client = undefined;
    work = undefined;
    if (c) {
      last = c.status();
      past.connects += last.connects;
      past.bytesSent += last.bytesSent;
      past.bytesReceived += last.bytesReceived;
    }
    await w?.stop();
    await c?.stop();
  };

  return {
    replica: opts.replica,
    start() {
      election = createLeaderElection({
        leases: opts.store.leases,
        name: `zone-leader`,
        holder: opts.replica,
        ...(opts.leaseMs === undefined ? {} : { leaseMs: opts.leaseMs }),
        log: opts.log,
        onElected: (term) => {
          transitions = transitions.then(async () => {
            await stopLeading();
            if (term.signal.aborted) return;
            const fenced = opts.store.fenced?.(term.fence) ?? opts.store;
            client = opts.kds(fenced);
            client.start();
            work = opts.lead(fenced, client);
            if (opts.store.leases)
              opts.log.info(
                { zone: opts.zone, replica: opts.replica, term: term.token },
                'this replica leads the zone: it holds the KDS stream',
              );
          });
        },
        onLost: () => {
          transitions = transitions.then(stopLeading);
        },
      });
    },
    async stop() {
      await election?.stop();
      await transitions;
      await stopLeading();
    },
    status() {
      const now = client?.status() ?? { ...last, connected: false, connects: 0, bytesSent: 0, bytesReceived: 0 };
      return {
        ...now,
        connects: past.connects + now.connects,
        bytesSent: past.bytesSent + now.bytesSent,
        bytesReceived: past.bytesReceived + now.bytesReceived,
      };
    },
    leader() {
      const seen = election?.leader();
      return seen === undefined ? undefined : { replica: seen.holder, me: seen.holder === opts.replica && election?.term() !== undefined };
    },
  };
}

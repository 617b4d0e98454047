// Leader election over a store's leases: the work that must run once per role (a zone's KDS stream
// to global, global's MeshInsight writer) runs only in the replica that holds the lease.
//
// The invariant: a replica stops leading before the lease can pass to another. It renews every
// renewMs; each renewal that succeeds extends its own term to (the moment it *sent* the renewal) +
// leaseMs − guardMs, measured on its own clock. Redis extends the lease from the moment it *ran*
// the renewal, later, so the term ends at least guardMs before the lease can expire, and even a
// replica that cannot reach Redis steps down in time. A replica that was paused (SIGSTOP, a long GC)
// past its term may still send writes queued before the pause: the fence (the lease value, checked
// by the store in the same script as the write) refuses them.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Fence, LeaseBackend } from './store.js';

const STOPPING = 'stopping';

export interface LeaderTerm {
  /** The fencing token: higher for every new term of this lease. */
  token: number;
  /** Pass to store.fenced(): writes of this term are refused once it is over. */
  fence: Fence;
  /** Fires when the term ends (lost, stepped down, or stopped). */
  signal: AbortSignal;
}

export interface LeaderElection {
  /** This replica's id in the lease. */
  readonly holder: string;
  /** The current term, while this replica leads. */
  term(): LeaderTerm | undefined;
  /** Who leads, as far as this replica last saw (itself, another holder, or nobody). */
  leader(): { holder: string; token: number } | undefined;
  /** Stops campaigning; releases the lease when held (another replica takes over at once). */
  stop(): Promise<void>;
}

export interface LeaderElectionOptions {
  /** Absent (a store only this process uses): this replica leads at once, for good. */
  leases: LeaseBackend | undefined;
  name: string;
  holder: string;
  /** How long a lease lasts without renewal (default 10 s). */
  leaseMs?: number;
  /** How often the leader renews and a candidate retries (default leaseMs / 5). */
  renewMs?: number;
  onElected(term: LeaderTerm): void;
  /** The term ended; its work must stop now. */
  onLost?(reason: string): void;
  log?: { info(o: object, msg: string): void; warn(o: object, msg: string): void };
}

export const DEFAULT_LEASE_MS = 10_000;

export function createLeaderElection(opts: LeaderElectionOptions): LeaderElection {
  const leaseMs = opts.leaseMs ?? DEFAULT_LEASE_MS;
  const renewMs = opts.renewMs ?? Math.max(50, Math.floor(leaseMs / 5));
  // Room for a slower clock and the renewal's own round trip; at least two renewals fit in a term.
  const guardMs = Math.max(renewMs, Math.floor(leaseMs / 5));
  if (leaseMs < guardMs + 2 * renewMs) throw new Error(`lease ${leaseMs} ms is too short for renewals every ${renewMs} ms`);

  let current: (LeaderTerm & { value: string; endsAt: number; controller: AbortController }) | undefined;
  let seen: { holder: string; token: number } | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const schedule = (ms: number) => {
    if (stopped) return;
    timer = setTimeout(() => void tick(), ms);
    timer.unref();
  };

  function end(reason: string): void {
    if (!current) return;
    const ending = current;
    current = undefined;
    if (deadline) clearTimeout(deadline);
    ending.controller.abort(new Error(reason));
    // Handing the lease over on shutdown is the normal way out; losing it while running is not.
    opts.log?.[reason === STOPPING ? 'info' : 'warn']({ lease: opts.name, term: ending.token, reason }, 'stopped leading');
    opts.onLost?.(reason);
  }

  function extend(sentAt: number): void {
    if (!current) return;
    current.endsAt = sentAt + leaseMs - guardMs;
    if (deadline) clearTimeout(deadline);
    deadline = setTimeout(() => end(`the lease was not renewed in time (${leaseMs} ms lease)`), Math.max(0, current.endsAt - Date.now()));
    deadline.unref();
  }

  async function tick(): Promise<void> {
    const sentAt = Date.now();
    try {
      if (current) {
        const value = current.value;
        const ok = await (opts.leases as LeaseBackend).renew(opts.name, value, leaseMs);
        if (current?.value !== value) return schedule(renewMs);
        if (ok) extend(sentAt);
        else end('another replica holds the lease');
        return schedule(renewMs);
      }
      const state = await (opts.leases as LeaseBackend).acquire(opts.name, opts.holder, leaseMs);
      if (stopped) {
        if (state.held) await (opts.leases as LeaseBackend).release(opts.name, state.value).catch(() => {});
        return;
      }
      if (state.held) {
        const controller = new AbortController();
        const fence = (opts.leases as LeaseBackend).fence(opts.name, state.value);
        current = { token: state.token, fence, signal: controller.signal, value: state.value, endsAt: 0, controller };
        seen = { holder: opts.holder, token: state.token };
        extend(sentAt);
        opts.log?.info({ lease: opts.name, term: state.token }, 'leading');
        opts.onElected(current);
        return schedule(renewMs);
      }
      seen = state.holder === undefined ? undefined : { holder: state.holder, token: state.token };
      // Try again as the holder's lease runs out (a dead leader's expires by itself), and at least every renewMs.
      return schedule(state.holder === undefined ? 0 : Math.min(renewMs, state.ttlMs + 20));
    } catch (err) {
      // The store is away: a leader keeps its term until its deadline, a candidate retries.
      opts.log?.warn({ lease: opts.name, err: err instanceof Error ? err.message : String(err) }, 'lease: store unavailable');
      return schedule(renewMs);
    }
  }

  if (opts.leases === undefined) {
    const controller = new AbortController();
    current = {
      token: 1,
      fence: { key: '', value: '' },
      signal: controller.signal,
      value: '',
      endsAt: Infinity,
      controller,
    };
    seen = { holder: opts.holder, token: 1 };
    queueMicrotask(() => current && opts.onElected(current));
  } else {
    schedule(0);
  }

  return {
    holder: opts.holder,
    term: () => current,
    leader: () => seen,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const held = current;
      end(STOPPING);
      if (held && opts.leases) await opts.leases.release(opts.name, held.value).catch(() => {});
    },
  };
}

/** A replica id that says where it runs: host name, pid, and a random part (a restarted process is another replica). */
export function replicaId(): string {
  return `${hostname()}-${process.pid}-${randomBytes(2).toString('hex')}`;
}

/**
 * Says "this replica is alive" in the store, as its own lease renewed every ttlMs / 3: what other
 * replicas read to trust what it recorded (global: the zones whose streams it holds).
 */
export function startPresence(leases: LeaseBackend | undefined, holder: string, ttlMs = DEFAULT_LEASE_MS): { stop(): Promise<void> } {
  if (leases === undefined) return { stop: () => Promise.resolve() };
  const name = presenceName(holder);
  let value: string | undefined;
  const beat = () =>
    void leases
      .acquire(name, holder, ttlMs)
      .then((s) => void (s.held && (value = s.value)))
      .catch(() => {});
  beat();
  const timer = setInterval(beat, Math.max(50, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      if (value !== undefined) await leases.release(name, value).catch(() => {});
    },
  };
}

/** Whether `holder`'s presence (startPresence) is current. */
export async function isPresent(leases: LeaseBackend, holder: string): Promise<boolean> {
  const state = await leases.read(presenceName(holder));
  return state.held || state.holder === holder;
}

const presenceName = (holder: string) => `replica:${holder}`;

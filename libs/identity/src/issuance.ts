// Issuing a dataplane's certificates from what source.ts chooses (its MeshIdentity, or its mesh's
// enabled backend): the first one, renewals, retries, re-issues after a change, and what the
// dataplane is told meanwhile (including its MeshTLS settings, policy.ts).
//
// The invariant: a connected dataplane always has an issuance in flight or its plan's timer armed,
// and while its certificate is valid the timer fires before notAfter. Every attempt ends in
// planNext(), and arm() is the only place that sets the timer, capped by the certificate's renewal
// time; so whatever happens to the Mesh (mTLS off, deleted, a CA down) the renewal stays planned,
// and a renewal that cannot happen is reported. It takes no socket: a Peer says how to reach the
// dataplane, so it can be driven directly (libs/identity/test/issuance.test.ts).
import { CaError, identityUriSans } from '@meshca/ca';
import type { Logger } from '@meshca/common';
import type { MeshCaCache, MeshView } from './mesh-ca-cache.js';
import type { IdentityMessage, ZoneMessage } from '@meshca/dp-protocol';
import type { RateLimiter } from './rate-limit.js';
import type { Session } from './session.js';
import { renewDelayMs, retryDelayMs, type BackoffOptions } from './timing.js';
import type { MeshTrusts } from './trust.js';
import type { TrustBundle } from './trust-bundle.js';
import { chooseSource, type Choice } from './source.js';
import { tlsPolicyFor } from './policy.js';
import { certificateFacts } from './certificate-facts.js';
import type { IssuanceFailureReason, IssuanceObserver, IssuanceTarget } from './observer.js';

export { waitingReason } from './source.js';

/** How issuance reaches a dataplane; connections.ts provides it over the session's socket. */
export interface Peer {
  /** Connected, and this session is still the dataplane's current one. */
  live(s: Session): boolean;
  send(s: Session, message: ZoneMessage): void;
  /** CSR mode: asks the dataplane for a CSR with these URI SANs; undefined when it did not answer. */
  requestCsr(s: Session, uriSans: string[]): Promise<string | undefined>;
  /** A reason the session may not be issued anything any more (its token expired), after ending it. */
  refusal(s: Session): string | undefined;
  /** Ends the session with a `refused` (forbidden) saying why. */
  refuse(s: Session, message: string): void;
}

export interface IssuanceOptions {
  cas: MeshCaCache;
  trusts: MeshTrusts;
  limiter: RateLimiter;
  log: Logger;
  peer: Peer;
  /** Resolves once Mesh changes are being watched. */
  ready: Promise<void>;
  /** Reloads a mesh whose enabled backend failed to open. */
  reopenSoon(mesh: string): void;
  /** What it holds or is moving to changed (its mesh's published MeshTrusts may follow). */
  heldChanged?(s: Session): void;
  /** Its insight needs writing. */
  touched(s: Session): void;
  /** The sessions of a mesh. */
  sessionsOf(mesh: string): Iterable<Session>;
  retry: BackoffOptions;
  rotationSpreadMs: number;
  csrTimeoutMs: number;
  /** Told of every CA call and failed attempt (the zone's metrics). */
  observer?: IssuanceObserver;
}

export interface Issuance {
  /** Issues now (or after the one in flight, under the then current settings). */
  issue(s: Session): Promise<void>;
  /** A Mesh's CAs were reloaded: re-issue, re-plan or tell each connected dataplane of it. */
  meshChanged(before: MeshView | undefined, after: MeshView): void;
  /** Sends `bundle` to `s` if it holds another one. */
  sendBundle(s: Session, bundle: TrustBundle): void;
  /** The session is gone or disconnected: no attempt is planned for it any more. */
  stop(s: Session): void;
  readonly counters: { issued: number; failed: number };
}

type Outcome =
  | { kind: 'issued' }
  | { kind: 'waiting'; reason: string }
  | { kind: 'failed'; message: string; retryable: boolean; reason: IssuanceFailureReason; target?: IssuanceTarget }
  | { kind: 'gone' };

/** A failure that is not the CA's answer: the reason says which. Retried like a CA error. */
class AttemptError extends Error {
  constructor(
    message: string,
    readonly reason: IssuanceFailureReason,
  ) {
    super(message);
  }
}

function failureReason(err: unknown): IssuanceFailureReason {
  if (err instanceof AttemptError) return err.reason;
  if (err instanceof CaError) return err.retryable ? 'ca_error' : 'ca_refused';
  return 'internal';
}

export function createIssuance(opts: IssuanceOptions): Issuance {
  const { cas, trusts, limiter, log, peer } = opts;
  const counters = { issued: 0, failed: 0 };

  function clearTimer(s: Session): void {
    if (s.plan.timer) clearTimeout(s.plan.timer);
    s.plan.timer = undefined;
    s.plan.dueAt = undefined;
  }

  /** Sets the next attempt at `at`, or earlier: never after the renewal of a certificate that is still valid. */
  function arm(s: Session, at: number): void {
    clearTimer(s);
    const now = Date.now();
    const due = Math.min(at, latestAttempt(s, now));
    s.plan.dueAt = due;
    s.plan.timer = setTimeout(
      () => {
        s.plan.timer = undefined;
        s.plan.dueAt = undefined;
        void issue(s);
      },
      Math.max(0, due - now),
    );
    s.plan.timer.unref();
  }

  /** Its renewal time, or once that has passed, 90% of the way to notAfter; no bound once expired. */
  function latestAttempt(s: Session, now: number): number {
    const { notAfter, renewAt } = s.held;
    if (notAfter === undefined || notAfter <= now) return Infinity;
    if (renewAt !== undefined && renewAt > now) return renewAt;
    return now + (notAfter - now) * 0.9;
  }

  /** Re-issue soon (spread over `spreadMs`), unless an attempt is already planned sooner. */
  function reissueWithin(s: Session, spreadMs: number): void {
    const at = Date.now() + Math.random() * spreadMs;
    if (s.plan.dueAt === undefined || s.plan.dueAt > at) arm(s, at);
  }

  function tellWaiting(s: Session, reason: string): void {
    if (s.plan.waiting === reason) return;
    s.plan.waiting = reason;
    peer.send(s, { type: 'waiting', reason });
  }

  async function issue(s: Session): Promise<void> {
    if (s.plan.issuing) {
      s.plan.again = true;
      return;
    }
    s.plan.issuing = true;
    s.plan.again = false;
    clearTimer(s);
    let outcome: Outcome;
    const chosen: { target?: IssuanceTarget } = {};
    try {
      outcome = await attempt(s, chosen);
    } catch (err) {
      outcome = {
        kind: 'failed',
        message: err instanceof Error ? err.message : String(err),
        retryable: !(err instanceof CaError) || err.retryable,
        reason: failureReason(err),
        ...(chosen.target === undefined ? {} : { target: chosen.target }),
      };
    } finally {
      s.plan.issuing = false;
    }
    opts.touched(s);
    if (!peer.live(s)) return;
    if (s.plan.again) {
      // The Mesh changed while this ran: decide again under the current settings.
      s.plan.again = false;
      void issue(s);
      return;
    }
    planNext(s, outcome);
  }

  /** What to do after an attempt: the one place that decides when the next one is. */
  function planNext(s: Session, outcome: Outcome): void {
    const now = Date.now();
    const { plan, held } = s;
    switch (outcome.kind) {
      case 'gone':
        return;
      case 'issued':
        plan.attempt = 0;
        arm(s, held.renewAt ?? now);
        return;
      case 'failed': {
        counters.failed++;
        opts.observer?.failed(s.identity.mesh, outcome.target, outcome.reason);
        plan.attempt++;
        // A refusal (denied, misconfigured) fails the same way until someone fixes it: no fast
        // retries, one slow re-check (a fix on the CA's side, a Vault role, is not visible here),
        // and at once when the Mesh or its Secrets change. arm() still keeps it before notAfter.
        const delay = outcome.retryable ? retryDelayMs(plan.attempt, opts.retry, now, held.notAfter) : opts.retry.maxMs;
        plan.lastError = { message: outcome.message, at: new Date(now).toISOString() };
        peer.send(s, { type: 'error', message: outcome.message, retryInMs: Math.round(Math.min(delay, latestAttempt(s, now) - now)) });
        if (plan.attempt === 1) {
          log.warn(
            { mesh: s.identity.mesh, dataplane: s.identity.name, err: outcome.message, retryable: outcome.retryable },
            outcome.retryable
              ? 'dataplane certificate issuance failed; retrying with backoff'
              : 'dataplane certificate issuance refused by the CA; retrying slowly and when the Mesh changes',
          );
        }
        arm(s, now + delay);
        return;
      }
      case 'waiting': {
        if (held.renewAt !== undefined && now < held.renewAt) {
          // Not due yet: the renewal stays where it was; the Mesh may be back by then.
          tellWaiting(s, outcome.reason);
          arm(s, held.renewAt);
          return;
        }
        plan.attempt++;
        if (held.notAfter !== undefined) {
          const expired = held.notAfter <= now;
          const message = `certificate ${expired ? 'expired' : 'renewal is due'} (notAfter ${new Date(held.notAfter).toISOString()}) and cannot be ${expired ? 'replaced' : 'renewed'}: ${outcome.reason}`;
          if (plan.lastError?.message !== message) {
            log.warn(
              {
                mesh: s.identity.mesh,
                dataplane: s.identity.name,
                notAfter: new Date(held.notAfter).toISOString(),
                reason: outcome.reason,
              },
              expired ? 'dataplane certificate expired and cannot be replaced' : 'dataplane certificate renewal is due and cannot happen',
            );
          }
          plan.lastError = { message, at: new Date(now).toISOString() };
          tellWaiting(s, message);
        } else {
          tellWaiting(s, outcome.reason);
        }
        arm(s, now + retryDelayMs(plan.attempt, opts.retry, now, held.notAfter));
        return;
      }
    }
  }

  /** The source and, when it cannot issue now, what the attempt ends in. */
  function decide(s: Session, view: MeshView): { choice: Choice; outcome?: Outcome } {
    const choice = chooseSource(view, s);
    s.plan.pending = choice.pending;
    sendPolicy(s, view);
    const { source } = choice;
    if (source.kind === 'waiting') return { choice, outcome: { kind: 'waiting', reason: source.reason } };
    if (source.kind === 'unavailable') {
      // Opening it failed (a CA down when the zone started or the Mesh arrived): try to open it
      // again, or it would stay failed until the Mesh next changes.
      opts.reopenSoon(s.identity.mesh);
      throw new AttemptError(source.error, 'ca_unavailable');
    }
    return { choice };
  }

  /** One issuance attempt: waits for the Mesh, a CSR and the rate limiter, then issues and sends. */
  async function attempt(s: Session, chosen: { target?: IssuanceTarget }): Promise<Outcome> {
    if (peer.refusal(s) !== undefined) return { kind: 'gone' };
    await opts.ready;
    let view = await cas.view(s.identity.mesh);
    if (!peer.live(s)) return { kind: 'gone' };
    let decided = decide(s, view);
    // As Kuma does at connect: a dataplane its identity cannot name (a label its path needs) is refused.
    if (decided.choice.refuse !== undefined && s.held.regenerations === 0 && s.held.serial === undefined) {
      peer.refuse(s, decided.choice.refuse);
      return { kind: 'gone' };
    }
    if (decided.outcome) return decided.outcome;
    let csrPem: string | undefined;
    if (s.link.csr) {
      // A first CSR sent with register is used as it is: builtin and provided CAs put the identity
      // in the certificate whatever the CSR asks, a Vault backend refuses a CSR without exactly
      // the identity's URIs. meshca-dp sends none and answers csr-request, which names them.
      const source = decided.choice.source;
      const uriSans = source.kind === 'issue' && source.uriSans ? source.uriSans : identityUriSans(s.identity);
      csrPem = s.link.firstCsr ?? (await peer.requestCsr(s, uriSans));
      s.link.firstCsr = undefined;
      if (csrPem === undefined) {
        if (!peer.live(s)) return { kind: 'gone' };
        throw new AttemptError(`the dataplane did not answer the CSR request within ${opts.csrTimeoutMs} ms`, 'csr_timeout');
      }
    }
    await limiter.acquire();
    if (!peer.live(s)) return { kind: 'gone' };
    // The mesh may have changed while this waited for a CSR or its turn (a fleet re-issue can
    // queue for seconds): issue under the settings current now, not replaced ones.
    view = cas.peek(s.identity.mesh) ?? view;
    decided = decide(s, view);
    if (decided.outcome) return decided.outcome;
    const source = decided.choice.source;
    if (source.kind !== 'issue') return { kind: 'waiting', reason: 'no source to issue from' };
    const issuedAt = Date.now();
    chosen.target = { mesh: s.identity.mesh, backend: source.name, type: source.ca.type };
    const ended = opts.observer?.caCall(chosen.target);
    let cert;
    try {
      cert = await source.ca.issue({
        identity: s.identity,
        ttlSeconds: source.ttlSeconds,
        ...(source.uriSans !== undefined ? { uriSans: source.uriSans } : {}),
        ...(csrPem !== undefined ? { csrPem } : {}),
      });
    } catch (err) {
      ended?.(false);
      throw err;
    }
    ended?.(true);
    if (!peer.live(s)) return { kind: 'gone' };
    trusts.hold(s, source.roots);
    const before = trusts.last(s.identity.mesh);
    // The latest view: the mesh may have changed while this certificate was being issued.
    const bundle = trusts.bundle(s.identity.mesh, cas.peek(s.identity.mesh) ?? view);
    const message: IdentityMessage = {
      type: 'identity',
      certChainPem: cert.certChainPem,
      ...(cert.keyPem !== undefined ? { keyPem: cert.keyPem } : {}),
      bundlePem: bundle.bundlePem,
      bundleBackends: bundle.bundleBackends,
      backend: source.name,
      serial: cert.serial,
      notBefore: cert.notBefore.toISOString(),
      notAfter: cert.notAfter.toISOString(),
    };
    peer.send(s, message);
    counters.issued++;
    const notAfter = cert.notAfter.getTime();
    const moved = s.held.identity !== source.identity;
    Object.assign(s.held, {
      backend: source.name,
      identity: source.identity,
      serial: cert.serial,
      notAfter,
      renewAt: issuedAt + renewDelayMs(issuedAt, notAfter),
      issuedFrom: source.fp,
      regenerations: s.held.regenerations + 1,
      lastIssuedAt: issuedAt,
      facts: certificateFacts(cert.certChainPem, source.roots),
    });
    s.trust.bundle = bundle;
    s.plan.lastError = undefined;
    s.plan.waiting = undefined;
    if (moved) {
      // Kuma's default MeshTLS mode follows the source (Strict on a MeshIdentity).
      sendPolicy(s, cas.peek(s.identity.mesh) ?? view);
      opts.heldChanged?.(s);
    }
    // The mesh changed while the CA was signing: this certificate is already outdated, issue
    // again (a change that left the fingerprint as it was needs nothing more).
    const now = cas.peek(s.identity.mesh);
    if (now !== undefined) {
      const next = chooseSource(now, s).source;
      s.plan.again = next.kind === 'issue' ? next.fp !== source.fp : next.kind === 'waiting';
    }
    // This was the last certificate under a retired root, or (a change raced this issuance) the
    // first under a root no backend has any more: the others' bundles follow.
    if (bundle !== before) for (const other of opts.sessionsOf(s.identity.mesh)) sendBundle(other, bundle);
    return { kind: 'issued' };
  }

  /** Sends the dataplane its MeshTLS settings when they changed. */
  function sendPolicy(s: Session, view: MeshView): void {
    if (!peer.live(s)) return;
    const policy = tlsPolicyFor(view, s);
    const text = JSON.stringify(policy);
    if (s.policy.sent === text) return;
    s.policy.sent = text;
    peer.send(s, policy);
    opts.touched(s);
  }

  function sendBundle(s: Session, bundle: TrustBundle): void {
    if (!peer.live(s) || s.held.serial === undefined || s.trust.bundle === bundle || bundle.bundlePem === '') return;
    if (s.trust.bundle?.bundlePem !== bundle.bundlePem) {
      peer.send(s, { type: 'bundle', bundlePem: bundle.bundlePem, bundleBackends: bundle.bundleBackends });
      // The agent drops "waiting" at a bundle: while this one still waits, say so again.
      if (s.plan.waiting !== undefined) peer.send(s, { type: 'waiting', reason: s.plan.waiting });
    }
    s.trust.bundle = bundle;
    opts.touched(s);
  }

  function meshChanged(before: MeshView | undefined, after: MeshView): void {
    const bundle = trusts.bundle(after.mesh, after);
    if (after.enabledFp !== undefined && before?.enabledFp !== after.enabledFp) {
      const backend = after.enabled?.backend.name;
      // The fingerprint only, never the settings: a backend's conf may hold inline secrets.
      log.info(
        { mesh: after.mesh, backend, fingerprint: after.enabledFp },
        before?.enabled?.backend.name === backend
          ? "enabled CA backend's settings or roots changed: re-issuing dataplane certificates issued under the old ones"
          : 'mesh issuing CA changed: re-issuing its dataplane certificates',
      );
    }
    for (const s of opts.sessionsOf(after.mesh)) {
      if (!peer.live(s)) continue;
      const told = s.plan.waiting;
      sendBundle(s, bundle);
      sendPolicy(s, after);
      const choice = chooseSource(after, s);
      const pendingChanged = s.plan.pending !== choice.pending;
      s.plan.pending = choice.pending;
      if (pendingChanged) opts.touched(s);
      // Whether what this dataplane is issued from (or waits for) changed; a refresh that only
      // reopened a backend that fails again changes nothing, and its own retry timer stands.
      if (before !== undefined && sameSource(chooseSource(before, s), choice)) continue;
      const { source } = choice;
      const canIssue = source.kind === 'issue';
      // A certificate chaining to a retired root was issued from roots other than the source's
      // now, so its fingerprint differs too: it is re-issued below like after a switch.
      if (s.plan.issuing) {
        // Decided when it ends: a success under the current fingerprint needs nothing more; a
        // failure is retried at once, since this change may be what it was waiting for.
        s.plan.again = true;
      } else if (s.held.serial === undefined || (canIssue && (s.plan.lastError !== undefined || told !== undefined))) {
        // Nothing held yet, or it was failing or waiting: this change may be what it waited for.
        reissueWithin(s, Math.min(1000, opts.rotationSpreadMs));
      } else if (canIssue && s.held.issuedFrom !== source.fp) {
        if (source.identity !== s.held.identity) {
          log.info(
            { mesh: after.mesh, dataplane: s.identity.name, from: s.held.backend, to: source.name },
            'dataplane moves to another identity source: re-issuing its certificate',
          );
        }
        reissueWithin(s, opts.rotationSpreadMs);
      } else if (source.kind === 'waiting' && told?.endsWith(source.reason) !== true) {
        // Still waiting (maybe for another reason); a "renewal is due" text ending in the same reason stays.
        tellWaiting(s, source.reason);
      }
    }
  }

  return { issue, meshChanged, sendBundle, stop: clearTimer, counters };
}

/** Two choices issue from the same source (or wait for the same reason). */
function sameSource(a: Choice, b: Choice): boolean {
  const x = a.source;
  const y = b.source;
  if (x.kind === 'issue' && y.kind === 'issue') return x.fp === y.fp && x.ca === y.ca;
  if (x.kind === 'waiting' && y.kind === 'waiting') return x.reason === y.reason;
  if (x.kind === 'unavailable' && y.kind === 'unavailable') return x.error === y.error;
  return false;
}

// The dataplanes' WebSockets: registration against the token, one session per dataplane (the
// newest connection wins), heartbeats, CSR requests, token expiry and revocation, and the grace
// period after a disconnect. What to do with a session is the caller's (the `on` callbacks).
import type { WebSocket } from 'ws';
import type { DataplaneSpec } from '@meshca/api';
import { atTime, type Logger } from '@meshca/common';
import { authorizeRegistration, type DataplaneTokenClaims } from './authorize.js';
import type { Peer } from './issuance.js';
import { DP_CLOSE, IDENTITY_PROTOCOL_VERSION, decodeDataplaneMessage, type ZoneMessage } from '@meshca/dp-protocol';
import { newSession, type Session } from './session.js';
import { closeAfterSends, sendInSmallFrames } from './small-frames.js';

export interface ConnectionEvents {
  /** A new session (its previous one, if any, is already retired). */
  registered(s: Session, spec: DataplaneSpec): void;
  /** Its socket closed; it keeps its records for the grace period. */
  disconnected(s: Session): void;
  /** It is no longer the dataplane's session (replaced, gone past the grace period, or the zone is closing). */
  retired(s: Session): void;
  /** Gone past the grace period: its records go. */
  removed(s: Session): void;
}

export interface Connections {
  accept(ws: WebSocket, claims: DataplaneTokenClaims): void;
  readonly peer: Peer;
  sessions(): IterableIterator<Session>;
  sessionsOf(mesh: string): Iterable<Session>;
  readonly count: number;
  /** Still the dataplane's session (connected, or away within its grace period). */
  isCurrent(s: Session): boolean;
  /** Closes (4403) every open connection whose token `check` says is no longer valid; how many. */
  revalidate(check: (claims: DataplaneTokenClaims) => string | undefined): number;
  close(): void;
}

export function createConnections(opts: {
  log: Logger;
  registerTimeoutMs: number;
  csrTimeoutMs: number;
  graceMs: number;
  heartbeatMs: number;
  on: ConnectionEvents;
}): Connections {
  const { log } = opts;
  const sessions = new Map<string, Session>();
  const byMesh = new Map<string, Set<Session>>();
  /** Every open connection and the token it came in with, registered or not yet. */
  const claimsOf = new Map<WebSocket, DataplaneTokenClaims>();
  let closed = false;

  const current = (s: Session): boolean => sessions.get(s.id) === s;
  const live = (s: Session): boolean => !closed && current(s) && s.link.ws !== undefined && s.link.ws.readyState === s.link.ws.OPEN;

  function send(s: Session, message: ZoneMessage): void {
    const { ws } = s.link;
    if (ws && ws.readyState === ws.OPEN) sendInSmallFrames(ws, JSON.stringify(message));
  }

  function refuse(ws: WebSocket, reason: 'bad-request' | 'forbidden', message: string): void {
    sendInSmallFrames(ws, JSON.stringify({ type: 'refused', reason, message } satisfies ZoneMessage));
    closeAfterSends(ws, reason === 'forbidden' ? DP_CLOSE.forbidden : DP_CLOSE.badRequest, message.slice(0, 120));
  }

  /** Ends a connection whose token expired (the dataplane keeps the certificate it holds until it expires). */
  function expired(ws: WebSocket, claims: DataplaneTokenClaims): string {
    const at = claims.expiresAt?.toISOString() ?? '?';
    const why = `dataplane token expired at ${at}; give the dataplane a new token (meshctl generate dataplane-token)`;
    if (!claimsOf.delete(ws)) return why;
    log.warn({ mesh: claims.mesh, dataplane: claims.name, expiredAt: at }, 'dataplane token expired: closing its connection');
    refuse(ws, 'forbidden', why);
    return why;
  }

  function requestCsr(s: Session, uriSans: string[]): Promise<string | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        s.link.csrWaiter = undefined;
        resolve(undefined);
      }, opts.csrTimeoutMs);
      s.link.csrWaiter = (csr) => {
        clearTimeout(timer);
        resolve(csr);
      };
      send(s, { type: 'csr-request', uriSans });
    });
  }

  const peer: Peer = {
    live,
    send,
    requestCsr,
    refusal(s) {
      const { ws } = s.link;
      const claims = ws === undefined ? undefined : claimsOf.get(ws);
      // A timer late under load must not let one more certificate out.
      if (ws === undefined || claims?.expiresAt === undefined || claims.expiresAt.getTime() > Date.now()) return undefined;
      return expired(ws, claims);
    },
    refuse(s, message) {
      const { ws } = s.link;
      if (ws === undefined) return;
      log.warn({ mesh: s.identity.mesh, dataplane: s.identity.name, reason: message }, 'dataplane refused');
      refuse(ws, 'forbidden', message);
    },
  };

  function accept(ws: WebSocket, claims: DataplaneTokenClaims): void {
    if (closed) {
      ws.close(DP_CLOSE.goingAway, 'zone is shutting down');
      return;
    }
    let session: Session | undefined;
    claimsOf.set(ws, claims);
    // Kuma checks a token only at connect; here an expired token also ends the connection it opened.
    const cancelExpiry = claims.expiresAt === undefined ? undefined : atTime(claims.expiresAt.getTime(), () => void expired(ws, claims));
    const registerTimer = setTimeout(
      () => refuse(ws, 'bad-request', `no register message within ${opts.registerTimeoutMs} ms`),
      opts.registerTimeoutMs,
    );
    ws.on('message', (data, isBinary) => {
      let msg;
      try {
        if (isBinary) throw new Error('binary frames are not part of the protocol; send JSON text');
        msg = decodeDataplaneMessage(String(data));
      } catch (err) {
        refuse(ws, 'bad-request', (err as Error).message);
        return;
      }
      if (msg.type === 'csr') {
        const waiter = session?.link.csrWaiter;
        if (session === undefined || waiter === undefined) return refuse(ws, 'bad-request', 'csr sent without a csr-request');
        session.link.csrWaiter = undefined;
        waiter(msg.csrPem);
        return;
      }
      if (session) return refuse(ws, 'bad-request', 'register was already sent on this connection');
      clearTimeout(registerTimer);
      const auth = authorizeRegistration(claims, msg.dataplane);
      if (!auth.ok) {
        log.warn({ mesh: claims.mesh, dataplane: claims.name, reason: auth.message }, 'dataplane refused');
        return refuse(ws, auth.reason, auth.message);
      }
      const held = msg.heldNotAfter === undefined ? NaN : Date.parse(msg.heldNotAfter);
      const previous = sessions.get(`${auth.identity.mesh}/${auth.identity.name}`);
      session = newSession(ws, auth.identity, {
        csr: msg.csr === true || msg.csrPem !== undefined,
        ...(msg.csrPem !== undefined ? { firstCsr: msg.csrPem } : {}),
        // What it says it holds only bounds its own retries (and an expired one is reported).
        ...(Number.isFinite(held) ? { heldNotAfter: held } : {}),
        ...(msg.trustedCaFingerprints !== undefined ? { trustedCaFingerprints: msg.trustedCaFingerprints } : {}),
        ...(previous !== undefined ? { previous } : {}),
      });
      register(session, auth.spec);
    });
    ws.on('pong', () => {
      if (session) session.link.alive = true;
    });
    ws.on('close', () => {
      claimsOf.delete(ws);
      cancelExpiry?.();
      clearTimeout(registerTimer);
      if (session) disconnected(session);
    });
    ws.on('error', (err) => log.debug({ err: err.message }, 'dataplane socket error'));
  }

  function register(s: Session, spec: DataplaneSpec): void {
    const previous = sessions.get(s.id);
    if (previous) {
      previous.trust.roots = undefined; // handed over to the new session
      retire(previous);
      // The newest connection wins: the older one is a dataplane restart or a half-open socket.
      previous.link.ws?.close(DP_CLOSE.replaced, 'replaced by a newer connection of the same dataplane');
    }
    sessions.set(s.id, s);
    let set = byMesh.get(s.identity.mesh);
    if (!set) byMesh.set(s.identity.mesh, (set = new Set()));
    set.add(s);
    send(s, { type: 'registered', protocol: IDENTITY_PROTOCOL_VERSION, mesh: s.identity.mesh, name: s.identity.name });
    log.debug({ mesh: s.identity.mesh, dataplane: s.identity.name, csr: s.link.csr }, 'dataplane registered');
    opts.on.registered(s, spec);
  }

  function retire(s: Session): void {
    if (s.link.removal) clearTimeout(s.link.removal);
    s.link.removal = undefined;
    s.link.csrWaiter?.(undefined);
    s.link.csrWaiter = undefined;
    byMesh.get(s.identity.mesh)?.delete(s);
    opts.on.retired(s);
  }

  function disconnected(s: Session): void {
    if (!current(s)) return;
    s.link.ws = undefined;
    s.link.disconnectedAt = Date.now();
    s.link.csrWaiter?.(undefined);
    s.link.csrWaiter = undefined;
    opts.on.disconnected(s);
    if (closed) return;
    s.link.removal = setTimeout(() => {
      if (!current(s) || s.link.ws) return;
      sessions.delete(s.id);
      retire(s);
      opts.on.removed(s);
    }, opts.graceMs);
    s.link.removal.unref();
  }

  const heartbeat = setInterval(() => {
    for (const s of sessions.values()) {
      const { ws } = s.link;
      if (!ws) continue;
      if (!s.link.alive) {
        ws.terminate();
        continue;
      }
      s.link.alive = false;
      ws.ping();
    }
  }, opts.heartbeatMs);
  heartbeat.unref();

  return {
    accept,
    peer,
    sessions: () => sessions.values(),
    sessionsOf: (mesh) => byMesh.get(mesh) ?? [],
    get count() {
      return sessions.size;
    },
    isCurrent: current,
    revalidate(check) {
      let count = 0;
      for (const [ws, claims] of claimsOf) {
        const why = check(claims);
        if (why === undefined) continue;
        claimsOf.delete(ws);
        log.warn(
          { mesh: claims.mesh, dataplane: claims.name, reason: why },
          'dataplane token is no longer valid: closing its connection (it keeps its current certificate until that expires)',
        );
        refuse(ws, 'forbidden', `dataplane token is no longer valid: ${why}`);
        count++;
      }
      return count;
    },
    close() {
      closed = true;
      clearInterval(heartbeat);
      for (const s of sessions.values()) {
        retire(s);
        s.link.ws?.close(DP_CLOSE.goingAway, 'zone control plane is shutting down; reconnect');
      }
      sessions.clear();
    },
  };
}

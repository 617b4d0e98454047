// Global's side of KDS: authenticates zones, streams global resources down, applies zone resources up.
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { ResourceInput, ResourceKey } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import { atTime, type Logger } from '@meshca/common';
import { ZONE_NAME, type TokenIssuer } from '@meshca/tokens';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { startHeartbeat } from './heartbeat.js';
import { resolveLimits, type KdsLimits } from './limits.js';
import {
  CLOSE,
  KDS_GLOBAL_TO_ZONE,
  KDS_PATH,
  KDS_PROTOCOL_VERSION,
  KDS_ZONE_TO_GLOBAL,
  ZONE_LABEL,
  decode,
  encode,
  type KdsMessage,
  type Software,
  DEFAULT_SOFTWARE,
  frameText,
  rawLength,
  truncate,
} from './messages.js';
import { createReceiver, type Receiver } from './receiver.js';
import { createSender, errorText, type Sender } from './sender.js';

/** `credential`: what the zone came in with, so revoking it later can end the open stream (see revalidate). */
export type KdsAuthResult = { ok: true; zone: string; credential?: ZoneCredential } | { ok: false; code: 4401 | 4403; reason: string };

export interface ZoneCredential {
  jti: string;
  kid: string;
  /** The stream ends when the token expires. */
  expiresAt?: Date;
}

export interface ZoneNack {
  revision: number;
  reason: string;
  /** ISO-8601. */
  at: string;
}

export interface ZoneState {
  zone: string;
  online: boolean;
  connectedAt?: string;
  disconnectedAt?: string;
  /** Last traffic from the zone (message or pong). */
  lastSeen?: string;
  remoteAddress?: string;
  software?: Software;
  /** Newest global revision the zone ACKed. */
  ackedRevision: number;
  /** Newest global revision streamed to it. */
  sentRevision: number;
  /** Versions sent and not yet answered (at most maxInFlight). */
  inFlight: number;
  /** Bytes queued in the socket towards the zone (ws bufferedAmount). */
  bufferedBytes: number;
  /** Snapshots and deltas sent on the current (or last) stream. */
  snapshotsSent: number;
  deltasSent: number;
  /** Global versions the zone refused, newest last (bounded). */
  nacks: ZoneNack[];
  /** Zone versions global refused, newest last (bounded). */
  refused: ZoneNack[];
  /** Why the last stream ended. */
  lastDisconnect?: string;
  /** Streams the zone opened to this global process. */
  connects: number;
  /** Bytes of the KDS messages sent to and received from the zone by this process, over all its streams. */
  bytesSent: number;
  bytesReceived: number;
}

export interface KdsServerOptions extends Partial<KdsLimits> {
  /** The app's TLS server; KDS handles upgrades on `path`. */
  server: HttpsServer | HttpServer;
  path?: string;
  store: ResourceStore;
  /** Decides who connects, from the `Authorization: Bearer` token (undefined when absent). */
  authenticate: (token: string | undefined) => Promise<KdsAuthResult>;
  logger: Logger;
  onZoneState?: (state: ZoneState) => void;
  /** Extra check on each resource a zone pushes; returns the reason to refuse it. */
  validate?: (zone: string, resource: ResourceInput) => string | undefined;
  software?: Software;
  /** Global's API port, told to zones in the welcome (known once the API listens). */
  apiPort?: () => number | undefined;
}

export interface KdsServer {
  zones(): ZoneState[];
  zone(name: string): ZoneState | undefined;
  /**
   * Ends (4401, with the reason) every open stream whose credential `check` says is no longer
   * valid; global calls it when a token or signing key is revoked. Returns the zones ended.
   */
  revalidate(check: (zone: string, credential: ZoneCredential) => string | undefined): string[];
  /** Ends every stream (1001) and stops accepting. */
  close(): Promise<void>;
}

const KEEP_NACKS = 20;

/** Name on global of a zone's resource: Dataplanes get the `<zone>.` prefix; a ZoneInsight is named by its zone. */
export function globalKeyForZone(zone: string, key: ResourceKey): ResourceKey {
  return key.type === 'ZoneInsight' ? { ...key, name: zone } : { ...key, name: `${zone}.${key.name}` };
}

/** An `authenticate` for zone tokens: signature, expiry, revocation (4401), kind (4403). */
export function zoneTokenAuthenticator(issuer: TokenIssuer): (token: string | undefined) => Promise<KdsAuthResult> {
  return async (token) => {
    const result = await issuer.verify(token, 'zone');
    if (result.ok)
      return {
        ok: true,
        zone: result.claims.zone,
        credential: { jti: result.claims.jti, kid: result.claims.kid, expiresAt: result.claims.expiresAt },
      };
    const code = result.error.reason === 'wrong-kind' ? CLOSE.forbidden : CLOSE.unauthenticated;
    return { ok: false, code, reason: `zone token refused: ${result.error.message}` };
  };
}

export function createKdsServer(opts: KdsServerOptions): KdsServer {
  const limits = resolveLimits(opts);
  const { store, logger } = opts;
  const software = opts.software ?? DEFAULT_SOFTWARE;
  const states = new Map<string, ZoneState>();
  const sessions = new Map<
    string,
    { ws: WebSocket; sender: Sender; credential: ZoneCredential | undefined; end: (code: number, reason: string) => void }
  >();
  const wss = new WebSocketServer({ server: opts.server, path: opts.path ?? KDS_PATH, maxPayload: limits.maxMessageBytes });

  const publish = (s: ZoneState) => opts.onZoneState?.(snapshotOf(s));
  const snapshotOf = (s: ZoneState): ZoneState => {
    const live = sessions.get(s.zone);
    const sent = live?.sender.state();
    if (live === undefined || sent === undefined) return structuredClone(s);
    const { sentRevision, inFlight, snapshotsSent, deltasSent } = sent;
    return structuredClone({ ...s, sentRevision, inFlight, snapshotsSent, deltasSent, bufferedBytes: live.ws.bufferedAmount });
  };

  wss.on('connection', (ws, req) => {
    const remoteAddress = req.socket.remoteAddress ?? 'unknown';
    let chain: Promise<void> = Promise.resolve();
    let zone: string | undefined; // set once hello is accepted
    let authed: string | undefined;
    let helloBytes = 0; // the hello, received before the zone is known
    let credential: ZoneCredential | undefined;
    let receiver: Receiver | undefined;
    let closed = false;

    const refuse = (code: number, reason: string) => {
      logger.warn({ zone: zone ?? authed, remoteAddress, code }, `KDS connection refused: ${reason}`);
      close(code, reason);
    };
    const close = (code: number, reason: string) => {
      if (closed) return;
      closed = true;
      ws.close(code, truncate(reason));
      // A peer that does not complete the close handshake is cut off.
      setTimeout(() => ws.terminate(), 2000).unref();
    };
    const run = (fn: () => Promise<void>) => {
      chain = chain
        .then(() => (closed ? undefined : fn()))
        .catch((err: unknown) => {
          logger.error({ zone, err: errorText(err) }, 'KDS stream failed; closing it so the zone resumes');
          close(CLOSE.internal, `global failed: ${errorText(err)}`);
        });
    };

    const hb = startHeartbeat(ws, {
      intervalMs: limits.heartbeatIntervalMs,
      timeoutMs: limits.heartbeatTimeoutMs,
      onTimeout: (silent) => {
        logger.warn({ zone: zone ?? authed, remoteAddress, silentMs: silent }, 'KDS peer silent; dropping the stream');
        closed = true;
        ws.terminate();
        ended(`no heartbeat for ${silent} ms`);
      },
    });
    const handshake = setTimeout(() => {
      if (zone === undefined) refuse(CLOSE.badRequest, `no hello within ${limits.handshakeTimeoutMs} ms`);
    }, limits.handshakeTimeoutMs);
    handshake.unref();

    run(async () => {
      const auth = await opts.authenticate(bearer(req));
      if (!auth.ok) return refuse(auth.code, auth.reason);
      authed = auth.zone;
      credential = auth.credential;
    });

    const seen = () => {
      const s = zone === undefined ? undefined : states.get(zone);
      if (s !== undefined && s.online) s.lastSeen = new Date().toISOString();
    };
    ws.on('pong', seen);
    ws.on('message', (data: RawData, isBinary: boolean) => {
      hb.seen();
      seen();
      const s = zone === undefined ? undefined : states.get(zone);
      if (s !== undefined) s.bytesReceived += rawLength(data);
      else helloBytes += rawLength(data);
      run(() => onMessage(isBinary ? undefined : frameText(data)));
    });
    ws.on('close', (code, reason) => {
      closed = true;
      ended(`closed (${code}${reason.length > 0 ? `: ${reason.toString()}` : ''})`);
    });
    ws.on('error', (err) => logger.warn({ zone, remoteAddress, err: err.message }, 'KDS socket error'));

    let didEnd = false;
    let cancelExpiry: (() => void) | undefined;
    function ended(why: string) {
      clearTimeout(handshake);
      cancelExpiry?.();
      hb.stop();
      if (didEnd) return;
      didEnd = true;
      if (zone === undefined) return;
      const session = sessions.get(zone);
      if (session?.ws !== ws) return;
      const sent = session.sender.state();
      session.sender.stop();
      sessions.delete(zone);
      const s = states.get(zone);
      if (s === undefined) return;
      const { sentRevision, snapshotsSent, deltasSent } = sent;
      Object.assign(s, {
        online: false,
        disconnectedAt: new Date().toISOString(),
        lastDisconnect: why,
        sentRevision,
        snapshotsSent,
        deltasSent,
        inFlight: 0,
        bufferedBytes: 0,
      });
      logger.info({ zone, reason: why }, 'zone disconnected');
      publish(s);
    }

    async function onMessage(text: string | undefined) {
      let msg: KdsMessage;
      try {
        if (text === undefined) throw new Error('binary frames are not part of the protocol');
        msg = decode(text);
      } catch (err) {
        return refuse(CLOSE.badRequest, `bad message: ${errorText(err)}`);
      }
      if (zone === undefined) {
        if (msg.type !== 'hello') return refuse(CLOSE.badRequest, `expected hello, got ${msg.type}`);
        return onHello(msg);
      }
      const session = sessions.get(zone);
      const s = states.get(zone);
      if (session === undefined || s === undefined) return;
      switch (msg.type) {
        case 'ack':
          if (session.sender.ack(msg.version)) {
            s.ackedRevision = Math.max(s.ackedRevision, msg.version);
            publish(s);
          }
          return;
        case 'nack':
          if (session.sender.nack(msg.version)) {
            logger.warn({ zone, revision: msg.version, reason: msg.reason }, 'zone refused a version (NACK)');
            s.nacks = [...s.nacks, { revision: msg.version, reason: msg.reason, at: new Date().toISOString() }].slice(-KEEP_NACKS);
            publish(s);
          }
          return;
        case 'snapshot':
        case 'delta':
          return receiver?.handle(msg);
        default:
          return refuse(CLOSE.badRequest, `unexpected ${msg.type} after hello`);
      }
    }

    async function onHello(hello: Extract<KdsMessage, { type: 'hello' }>) {
      if (authed === undefined) return;
      if (hello.protocol !== KDS_PROTOCOL_VERSION) {
        return refuse(CLOSE.badRequest, `unsupported KDS protocol ${hello.protocol}; this global speaks ${KDS_PROTOCOL_VERSION}`);
      }
      if (hello.zone !== authed) return refuse(CLOSE.forbidden, `token is for zone "${authed}", not "${hello.zone}"`);
      if (!ZONE_NAME.test(hello.zone)) return refuse(CLOSE.badRequest, `zone name "${hello.zone}" must be a DNS label`);
      const other = sessions.get(hello.zone);
      if (other !== undefined) {
        return refuse(
          CLOSE.duplicateZone,
          `zone "${hello.zone}" is already connected (since ${states.get(hello.zone)?.connectedAt ?? '?'})`,
        );
      }
      const name = hello.zone;
      zone = name;
      clearTimeout(handshake);
      const now = new Date().toISOString();
      const prev = states.get(name);
      const s: ZoneState = {
        zone: name,
        online: true,
        connectedAt: now,
        lastSeen: now,
        remoteAddress,
        software: hello.software,
        ackedRevision: prev?.ackedRevision ?? 0,
        sentRevision: hello.lastRevision,
        inFlight: 0,
        bufferedBytes: 0,
        snapshotsSent: 0,
        deltasSent: 0,
        nacks: prev?.nacks ?? [],
        refused: prev?.refused ?? [],
        connects: (prev?.connects ?? 0) + 1,
        bytesSent: prev?.bytesSent ?? 0,
        bytesReceived: (prev?.bytesReceived ?? 0) + helloBytes,
        ...(prev?.lastDisconnect === undefined ? {} : { lastDisconnect: prev.lastDisconnect }),
      };
      states.set(name, s);
      const send = (text: string): void => {
        s.bytesSent += Buffer.byteLength(text);
        ws.send(text);
      };
      const transport = {
        send,
        bufferedAmount: () => ws.bufferedAmount,
        isOpen: () => ws.readyState === ws.OPEN,
      };
      const sender = createSender({
        store,
        types: KDS_GLOBAL_TO_ZONE,
        transport,
        limits,
        logger: logger.child({ zone: name }),
        // A zone's own published MeshTrusts are not sent back to it: it holds them under its names.
        include: (r) => !(r.meta.type === 'MeshTrust' && r.meta.labels[ZONE_LABEL] === name),
      });
      sessions.set(name, { ws, sender, credential, end: close });
      // Kuma checks a zone token only at connect; here the stream it opened ends when it expires.
      const expiresAt = credential?.expiresAt;
      if (expiresAt !== undefined) {
        cancelExpiry = atTime(expiresAt.getTime(), () => {
          logger.warn({ zone: name, expiredAt: expiresAt.toISOString() }, 'zone token expired: ending its stream');
          close(
            CLOSE.unauthenticated,
            `zone token expired at ${expiresAt.toISOString()}; give the zone a new token file (re-read at reconnect)`,
          );
        });
      }
      receiver = createReceiver({
        store,
        apply: {
          allowed: KDS_ZONE_TO_GLOBAL,
          localKey: (k) => globalKeyForZone(name, k),
          labels: { [ZONE_LABEL]: name },
          owns: (r) => r.meta.labels[ZONE_LABEL] === name,
          validate: (r) => {
            if (r.meta.type === 'ZoneInsight' && r.meta.name !== name) return `a zone reports only its own ZoneInsight, named "${name}"`;
            return opts.validate?.(name, r);
          },
        },
        reply: (m) => ws.readyState === ws.OPEN && send(encode(m)),
        onNack: (version, reason) => {
          logger.warn({ zone: name, version, reason }, 'refused resources pushed by zone (NACK sent)');
          s.refused = [...s.refused, { revision: version, reason, at: new Date().toISOString() }].slice(-KEEP_NACKS);
          publish(s);
        },
      });
      const epoch = await store.epoch();
      const apiPort = opts.apiPort?.();
      send(
        encode({
          type: 'welcome',
          protocol: KDS_PROTOCOL_VERSION,
          zone: name,
          epoch,
          ...(apiPort === undefined ? {} : { apiPort }),
          software,
        }),
      );
      // A revision from another epoch belongs to another history (global lost its data): deltas
      // after it would be meaningless, so the zone gets a snapshot and decides what to do with it.
      const otherHistory = hello.globalEpoch !== undefined && hello.globalEpoch !== epoch;
      logger[otherHistory ? 'warn' : 'info'](
        {
          zone: name,
          remoteAddress,
          lastRevision: hello.lastRevision,
          software: hello.software,
          ...(otherHistory ? { zoneEpoch: hello.globalEpoch, epoch } : {}),
        },
        otherHistory
          ? "zone connected with data from another dataset of global (global's store was reset?): sending a snapshot"
          : 'zone connected',
      );
      publish(s);
      sender.start(hello.lastRevision === 0 || otherHistory ? 'snapshot' : hello.lastRevision);
    }
  });

  return {
    zones: () => [...states.values()].map(snapshotOf).sort((a, b) => (a.zone < b.zone ? -1 : 1)),
    zone: (name) => {
      const s = states.get(name);
      return s === undefined ? undefined : snapshotOf(s);
    },
    revalidate(check) {
      const ended: string[] = [];
      for (const [zone, session] of sessions) {
        const why = session.credential === undefined ? undefined : check(zone, session.credential);
        if (why === undefined) continue;
        logger.warn({ zone, reason: why }, 'zone token is no longer valid: ending its stream');
        session.end(CLOSE.unauthenticated, `zone token is no longer valid: ${why}`);
        ended.push(zone);
      }
      return ended;
    },
    async close() {
      for (const { ws } of sessions.values()) ws.close(CLOSE.goingAway, 'global control plane is shutting down');
      const waiting = [...wss.clients].map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === ws.CLOSED) return resolve();
            ws.once('close', () => resolve());
            setTimeout(() => {
              ws.terminate();
              resolve();
            }, 2000).unref();
          }),
      );
      await Promise.all(waiting);
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}

function bearer(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer\s+(.+)$/i.exec(h.trim());
  return m?.[1];
}

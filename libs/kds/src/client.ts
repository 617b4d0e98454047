// A zone's side of KDS: one stream to global, applying what global sends and pushing what the zone owns.
import type { ResourceInput } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import { explainTlsError, type Logger } from '@meshca/common';
import WebSocket from 'ws';
import { startHeartbeat, type Heartbeat } from './heartbeat.js';
import { resolveLimits, type KdsLimits } from './limits.js';
import {
  CLOSE,
  DEFAULT_SOFTWARE,
  isZoneOrigin,
  KDS_GLOBAL_TO_ZONE,
  KDS_PROTOCOL_VERSION,
  KDS_ZONE_TO_GLOBAL,
  decode,
  encode,
  frameText,
  rawLength,
  truncate,
  type KdsMessage,
  type Software,
} from './messages.js';
import { createDatasetGuard, type Divergence } from './dataset-guard.js';
import { createReceiver } from './receiver.js';
import { createSender, errorText, type Sender } from './sender.js';
import type { ZoneNack } from './server.js';

/** Label on the zone's own `Zone` record (in its local store) holding the last global revision it applied. */
export const APPLIED_REVISION_LABEL = 'kds.meshca.io/global-revision';
/** Label on the same record: the epoch of global's store that revision belongs to. */
export const APPLIED_EPOCH_LABEL = 'kds.meshca.io/global-epoch';

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export interface KdsClientOptions extends Partial<KdsLimits> {
  /** wss://host:port/kds */
  url: string;
  /** The zone token; a function is called on every attempt, so a fixed token file is picked up. */
  token: string | (() => string | Promise<string>);
  zone: string;
  /** The zone's local store: synced resources land here, and its Dataplanes/ZoneInsights are pushed. */
  store: ResourceStore;
  /** PEM of the CA that signed global's certificate (default: the system roots). */
  ca?: string | Buffer | undefined;
  /** Skip verifying global's certificate. Development only. */
  insecure?: boolean;
  logger: Logger;
  backoff?: Partial<Backoff>;
  /** Extra check on each resource global sends; returns the reason to NACK its version. */
  validate?: (resource: ResourceInput) => string | undefined;
  software?: Software;
  /**
   * Take global's state even when global's store is another dataset that lacks what this zone holds
   * (see dataset-guard.ts). Default: keep what the zone holds and report the divergence.
   */
  acceptGlobalReset?: boolean;
}

export interface KdsClientStatus {
  /** Handshake done and stream open. */
  connected: boolean;
  connectedAt?: string;
  /** Last global revision applied to the local store. */
  lastRevision: number;
  lastError?: string;
  lastErrorAt?: string;
  /** Failed attempts since the last successful handshake. */
  failures: number;
  /** Global versions this zone refused (NACKed), newest last. */
  nacks: ZoneNack[];
  /** Zone versions global refused, newest last. */
  refused: ZoneNack[];
  /** Global came back with other data than this zone holds; the zone keeps its own (see dataset-guard.ts). */
  divergence?: Divergence;
  /** Global's API port, from its welcome. */
  globalApiPort?: number;
  /** Streams established by this client (the first one and every reconnect). */
  connects: number;
  /** Bytes of the KDS messages sent and received by this client, over all its streams. */
  bytesSent: number;
  bytesReceived: number;
}

export interface KdsClient {
  start(): void;
  stop(): Promise<void>;
  status(): KdsClientStatus;
}

const KEEP = 20;

/** The status of a client that has not connected yet. */
export function idleKdsStatus(): KdsClientStatus {
  return { connected: false, lastRevision: 0, failures: 0, nacks: [], refused: [], connects: 0, bytesSent: 0, bytesReceived: 0 };
}

export async function readAppliedRevision(store: ResourceStore, zone: string): Promise<number> {
  return (await readApplied(store, zone)).revision;
}

/** The last global revision this zone applied and the epoch of global's store it came from. */
export async function readApplied(store: ResourceStore, zone: string): Promise<{ revision: number; epoch: string | undefined }> {
  const rec = await store.get({ type: 'Zone', name: zone });
  const n = Number(rec?.meta.labels[APPLIED_REVISION_LABEL] ?? 0);
  return { revision: Number.isSafeInteger(n) && n >= 0 ? n : 0, epoch: rec?.meta.labels[APPLIED_EPOCH_LABEL] };
}

async function writeApplied(store: ResourceStore, zone: string, revision: number, epoch: string | undefined): Promise<void> {
  const key = { type: 'Zone' as const, name: zone };
  const rec = await store.get(key);
  const labels = {
    ...rec?.meta.labels,
    [APPLIED_REVISION_LABEL]: String(revision),
    ...(epoch === undefined ? {} : { [APPLIED_EPOCH_LABEL]: epoch }),
  };
  const input = { meta: { ...key, labels }, spec: rec?.spec ?? {} };
  if (rec === undefined) await store.create(input);
  else await store.update(input, rec.meta.version);
}

/** Exponential backoff with "equal jitter": half the delay fixed, half random, capped. */
export function backoffDelay(failures: number, b: Backoff): number {
  const ceiling = Math.min(b.maxMs, b.initialMs * 2 ** Math.min(failures, 30));
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

export function createKdsClient(opts: KdsClientOptions): KdsClient {
  const limits = resolveLimits(opts);
  const { store, zone, logger } = opts;
  const backoff: Backoff = { initialMs: opts.backoff?.initialMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000 };
  const status = idleKdsStatus();
  let stopped = true;
  let ws: WebSocket | undefined;
  let retry: NodeJS.Timeout | undefined;
  let loaded = false;
  let heldEpoch: string | undefined;
  const guard = createDatasetGuard({
    store,
    acceptReset: opts.acceptGlobalReset === true,
    keep: (r) => isZoneOrigin(r, opts.zone),
    onDiverged: (d) => {
      logger.error(
        { globalEpoch: d.globalEpoch, heldEpoch: d.heldEpoch, missing: d.missing.slice(0, 20), count: d.missing.length },
        "global's store is another dataset that lacks resources this zone holds: keeping them and issuing from them, refusing global's versions until global holds them again (re-apply them on global) or the zone is restarted with --accept-global-reset",
      );
    },
    onRejoined: (how, d) => {
      if (how === 'accepted')
        logger.warn(
          { globalEpoch: d.globalEpoch, removed: d.missing.slice(0, 20), count: d.missing.length },
          "taking global's state as it is (--accept-global-reset): removing what global no longer has",
        );
      else
        logger.info({ globalEpoch: d.globalEpoch }, "global's store is another dataset but holds everything this zone holds: following it");
    },
  });

  const fail = (message: string) => {
    status.lastError = message;
    status.lastErrorAt = new Date().toISOString();
  };

  async function connect() {
    retry = undefined;
    if (stopped) return;
    let token: string;
    try {
      if (!loaded) {
        const applied = await readApplied(store, zone);
        status.lastRevision = applied.revision;
        heldEpoch = applied.epoch;
        loaded = true;
      }
      token = typeof opts.token === 'function' ? await opts.token() : opts.token;
    } catch (err) {
      fail(`cannot prepare the KDS connection: ${errorText(err)}`);
      logger.error({ err: status.lastError }, 'KDS connection not attempted');
      return scheduleRetry();
    }
    if (stopped) return;
    const socket = new WebSocket(opts.url, {
      headers: { authorization: `Bearer ${token.trim()}` },
      ...(opts.ca === undefined ? {} : { ca: opts.ca }),
      rejectUnauthorized: opts.insecure !== true,
      maxPayload: limits.maxMessageBytes,
      handshakeTimeout: limits.handshakeTimeoutMs,
    });
    ws = socket;
    const send = (text: string): void => {
      status.bytesSent += Buffer.byteLength(text);
      socket.send(text);
    };
    let chain: Promise<void> = Promise.resolve();
    let sender: Sender | undefined;
    let hb: Heartbeat | undefined;
    let welcomed = false;
    let lastReceived = status.lastRevision;
    let globalEpoch: string | undefined;

    let closingOurselves = false;
    const close = (code: number, reason: string) => {
      closingOurselves = true;
      if (socket.readyState === socket.OPEN || socket.readyState === socket.CONNECTING) socket.close(code, truncate(reason));
      setTimeout(() => socket.terminate(), 2000).unref();
    };
    const receiver = createReceiver({
      store,
      apply: {
        allowed: KDS_GLOBAL_TO_ZONE,
        // What the zone made itself (published MeshTrusts, autogenerated CAs) is global's to read, not to replace.
        keep: (r) => isZoneOrigin(r, opts.zone),
        ...(opts.validate === undefined ? {} : { validate: opts.validate }),
      },
      screen: async (batch) => {
        const screened = await guard.screen(batch);
        const d = guard.divergence();
        if (d === undefined) delete status.divergence;
        else status.divergence = d;
        return screened;
      },
      reply: (m) => socket.readyState === socket.OPEN && send(encode(m)),
      onApplied: async (version) => {
        await writeApplied(store, zone, version, globalEpoch);
        status.lastRevision = version;
        heldEpoch = globalEpoch ?? heldEpoch;
      },
      onNack: (version, reason) => {
        logger.warn({ version, reason }, 'refused a version from global (NACK sent)');
        status.nacks = [...status.nacks, { revision: version, reason, at: new Date().toISOString() }].slice(-KEEP);
      },
    });
    const handshake = setTimeout(() => {
      if (!welcomed) {
        fail(`no welcome from global within ${limits.handshakeTimeoutMs} ms`);
        close(CLOSE.badRequest, 'no welcome');
      }
    }, limits.handshakeTimeoutMs);
    handshake.unref();

    socket.on('open', () => {
      hb = startHeartbeat(socket, {
        intervalMs: limits.heartbeatIntervalMs,
        timeoutMs: limits.heartbeatTimeoutMs,
        onTimeout: (silent) => {
          fail(`global silent for ${silent} ms (no heartbeat); reconnecting`);
          logger.warn({ silentMs: silent }, 'KDS peer silent; dropping the stream');
          socket.terminate();
        },
      });
      send(
        encode({
          type: 'hello',
          protocol: KDS_PROTOCOL_VERSION,
          zone,
          lastRevision: status.lastRevision,
          ...(heldEpoch === undefined ? {} : { globalEpoch: heldEpoch }),
          software: opts.software ?? DEFAULT_SOFTWARE,
        }),
      );
    });
    socket.on('message', (data, isBinary) => {
      hb?.seen();
      status.bytesReceived += rawLength(data);
      chain = chain
        .then(() => onMessage(isBinary ? undefined : frameText(data)))
        .catch((err: unknown) => {
          fail(`applying global's stream failed: ${errorText(err)}`);
          logger.error({ err: errorText(err) }, 'KDS stream failed; reconnecting to resume from the last applied revision');
          close(CLOSE.internal, `zone failed: ${errorText(err)}`);
        });
    });
    socket.on('error', (err) => {
      fail(`cannot reach global at ${explainTlsError(err, { url: opts.url, server: 'meshca-global', caFlag: '--global-ca-file' })}`);
    });
    socket.on('close', (code, reasonBuf) => {
      clearTimeout(handshake);
      hb?.stop();
      sender?.stop();
      if (ws === socket) ws = undefined;
      const reason = reasonBuf.toString();
      const wasConnected = status.connected;
      status.connected = false;
      delete status.connectedAt;
      if (stopped) {
        logger.info({ code }, 'KDS stream closed: this zone process is stopping');
        return;
      }
      if (closingOurselves) {
        logger.warn({ code, err: status.lastError }, 'KDS stream closed by this zone; reconnecting');
      } else if (code === CLOSE.unauthenticated || code === CLOSE.forbidden || code === CLOSE.duplicateZone) {
        fail(`global refused this zone (${code}): ${reason}`);
        logger.error({ code, reason }, `global refused the KDS stream: ${reason}`);
      } else if (code >= 4000 || wasConnected) {
        if (code >= 4000 || status.lastError === undefined) fail(`global closed the stream (${code}${reason ? `: ${reason}` : ''})`);
        logger.warn({ code, reason }, 'KDS stream closed; reconnecting');
      } else {
        logger.warn({ code, err: status.lastError }, 'KDS connection failed; retrying');
      }
      scheduleRetry();
    });

    async function onMessage(text: string | undefined) {
      let msg: KdsMessage;
      try {
        if (text === undefined) throw new Error('binary frames are not part of the protocol');
        msg = decode(text);
      } catch (err) {
        fail(`global sent a bad message: ${errorText(err)}`);
        return close(CLOSE.badRequest, `bad message: ${errorText(err)}`);
      }
      if (!welcomed) {
        if (msg.type !== 'welcome') return close(CLOSE.badRequest, `expected welcome, got ${msg.type}`);
        welcomed = true;
        clearTimeout(handshake);
        globalEpoch = msg.epoch;
        guard.welcome(globalEpoch, heldEpoch);
        if (msg.apiPort !== undefined) status.globalApiPort = msg.apiPort;
        status.connected = true;
        status.connects += 1;
        status.connectedAt = new Date().toISOString();
        status.failures = 0;
        delete status.lastError;
        delete status.lastErrorAt;
        logger.info({ lastRevision: status.lastRevision, global: msg.software }, 'KDS stream to global established');
        const transport = {
          send,
          bufferedAmount: () => socket.bufferedAmount,
          isOpen: () => socket.readyState === socket.OPEN,
        };
        sender = createSender({
          store,
          types: KDS_ZONE_TO_GLOBAL,
          transport,
          limits,
          logger,
          // Of MeshTrusts, only those this zone publishes: the others came from global.
          include: (r) => r.meta.type !== 'MeshTrust' || isZoneOrigin(r, opts.zone),
        });
        // The zone's own resources are always sent whole on connect: they are few, and global prunes by it.
        sender.start('snapshot');
        return;
      }
      switch (msg.type) {
        case 'snapshot':
        case 'delta':
          if (msg.type === 'delta' && msg.since !== lastReceived) {
            logger.debug({ since: msg.since, lastReceived }, 'delta does not start at the last version received');
          }
          lastReceived = msg.version;
          return receiver.handle(msg);
        case 'ack':
          sender?.ack(msg.version);
          return;
        case 'nack':
          if (sender?.nack(msg.version) === true) {
            logger.error({ version: msg.version, reason: msg.reason }, 'global refused resources pushed by this zone');
            status.refused = [...status.refused, { revision: msg.version, reason: msg.reason, at: new Date().toISOString() }].slice(-KEEP);
          }
          return;
        default:
          return close(CLOSE.badRequest, `unexpected ${msg.type}`);
      }
    }
  }

  function scheduleRetry() {
    if (stopped || retry !== undefined) return;
    const delay = backoffDelay(status.failures, backoff);
    status.failures++;
    retry = setTimeout(() => void connect(), delay);
  }

  return {
    start() {
      if (!stopped) return;
      stopped = false;
      void connect();
    },
    async stop() {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      retry = undefined;
      const socket = ws;
      if (socket === undefined) return;
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.close(CLOSE.goingAway, 'zone control plane is stopping');
        setTimeout(() => {
          socket.terminate();
          resolve();
        }, 2000).unref();
      });
    },
    status: () => structuredClone(status),
  };
}

// The dataplane side of the identity stream: connect with the token, register, hold the current
// certificate, key and bundle, answer CSR requests, reconnect with backoff.
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext, type SecureContext } from 'node:tls';
import WebSocket from 'ws';
import { explainTlsError, type Logger } from '@meshca/common';
import { DATAPLANE_PATH, decodeZoneMessage, type DataplaneDocument, type TlsMessage, type ZoneMessage } from '@meshca/dp-protocol';
import { bundleFingerprints, createCsr, generateP256Key } from '@meshca/pki';

export interface ConnectOptions {
  /**
   * The zone control plane, `https://host:port` (the identity stream is `wss://host:port/dataplanes`),
   * or several replicas of one zone: the agent moves to the next when one fails, keeping its certificate.
   */
  zone: string | readonly string[];
  /** The dataplane token, or a file holding it (re-read at every connect, so it can be replaced). */
  token?: string;
  tokenFile?: string;
  dataplane: DataplaneDocument;
  /** PEM of the CA that signed the zone's server certificate. */
  ca?: string;
  /** Accept any zone certificate (development only). */
  insecureSkipVerify?: boolean;
  /** Generate keys here and send CSRs: the private key never leaves this process. */
  csr?: boolean;
  /**
   * Reconnect delays: from baseMs doubling to maxMs, half of each random (default 250 ms to 3 s, so
   * a dataplane is back within seconds of its zone); refusedMs after a refusal the same token
   * will meet again (default 30 s; maxMs when reconnect is given without it).
   */
  reconnect?: { baseMs: number; maxMs: number; refusedMs?: number };
  log?: Logger;
}

export interface Identity {
  certChainPem: string;
  keyPem: string;
  bundlePem: string;
  bundleBackends: string[];
  backend: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
}

/** The dataplane's MeshTLS settings, as its zone sent them. */
export type TlsSettings = Omit<TlsMessage, 'type'>;

export interface AgentStatus {
  mesh: string;
  name: string;
  connected: boolean;
  backend?: string;
  serial?: string;
  notAfter?: string;
  bundleBackends?: string[];
  /** Certificates received since start. */
  rotations: number;
  /** MeshTLS: Strict (mTLS only) or Permissive (plaintext too), and the versions and ciphers. */
  tls?: TlsSettings;
  waiting?: string;
  lastError?: { message: string; at: string };
}

export interface IdentityEvents {
  /** A new certificate (and key), or a new bundle for the same certificate. */
  update: [identity: Identity, change: 'certificate' | 'bundle'];
  connected: [];
  disconnected: [reason: string];
  waiting: [reason: string];
  /** Issuance or connection problem; the current certificate, if any, stays in use. */
  problem: [message: string];
  /** New MeshTLS settings. */
  tls: [settings: TlsSettings];
}

export interface IdentityHandle extends EventEmitter<IdentityEvents> {
  current(): Identity | undefined;
  /** The MeshTLS settings the zone sent; undefined until it sent them. */
  tls(): TlsSettings | undefined;
  /** A TLS context with the current certificate, key and bundle; a new object after every update. */
  secureContext(): SecureContext | undefined;
  /** Resolves with the first identity (or the current one). */
  ready(timeoutMs?: number): Promise<Identity>;
  status(): AgentStatus;
  close(): Promise<void>;
}

/** Refusals that the same token and Dataplane will meet again: retry slowly. */
const PERMANENT = new Set([4400, 4403]);

export function connectIdentity(opts: ConnectOptions): IdentityHandle {
  if (opts.token === undefined && opts.tokenFile === undefined) throw new Error('connectIdentity: set token or tokenFile');
  const emitter = new EventEmitter<IdentityEvents>();
  const given = opts.reconnect;
  const backoff =
    given === undefined ? { baseMs: 250, maxMs: 3000, refusedMs: 30_000 } : { ...given, refusedMs: given.refusedMs ?? given.maxMs };
  const urls = (typeof opts.zone === 'string' ? [opts.zone] : [...opts.zone]).map(identityUrl);
  if (urls.length === 0) throw new Error('connectIdentity: zone must name at least one zone address');
  let replica = 0;
  let url = urls[0] as string;
  const log = opts.log;
  let identity: Identity | undefined;
  let context: SecureContext | undefined;
  let ws: WebSocket | undefined;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  let rotations = 0;
  let connected = false;
  let waiting: string | undefined;
  let lastError: { message: string; at: string } | undefined;
  let tls: TlsSettings | undefined;
  // CSR mode: keys whose CSR was sent, by public key, until the certificate for one arrives.
  const pendingKeys = new Map<string, string>();

  const problem = (message: string): void => {
    lastError = { message, at: new Date().toISOString() };
    emitter.emit('problem', message);
  };

  /** A fresh key and a CSR for it asking for the identity's URI SANs, as the zone names them. */
  function newCsr(uriSans: string[]): string {
    const key = generateP256Key();
    pendingKeys.set(key.spkiDer.toString('base64'), key.keyPem);
    while (pendingKeys.size > 2) pendingKeys.delete(pendingKeys.keys().next().value as string);
    return createCsr({ keyPem: key.keyPem, uriSans });
  }

  async function connect(): Promise<void> {
    timer = undefined;
    if (closed) return;
    let token: string;
    try {
      token = opts.token ?? (await readFile(opts.tokenFile as string, 'utf8')).trim();
    } catch (err) {
      problem(`cannot read the token file ${opts.tokenFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return retry(true);
    }
    url = urls[replica % urls.length] as string;
    const socket = new WebSocket(url, {
      headers: { authorization: `Bearer ${token}` },
      perMessageDeflate: false,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
      ...(opts.insecureSkipVerify === true ? { rejectUnauthorized: false } : {}),
      handshakeTimeout: 10_000,
    });
    ws = socket;
    let refusedPermanently = false;
    // The zone answered the upgrade with a refusal: that reason stands, not the socket error after it.
    let answered = false;
    socket.on('open', () => {
      connected = true;
      log?.info({ zone: url }, 'connected to zone');
      emitter.emit('connected');
      socket.send(
        JSON.stringify({
          type: 'register',
          dataplane: opts.dataplane,
          // CSR mode: the zone asks for a CSR, naming the SANs it must carry.
          ...(opts.csr === true ? { csr: true } : {}),
          // So a zone that cannot issue at once still retries before this certificate expires.
          ...(identity !== undefined ? { heldNotAfter: identity.notAfter.toISOString() } : {}),
          // What it trusts until the zone sends a bundle: global moves no peer to a CA it lacks.
          ...(identity !== undefined ? { trustedCaFingerprints: bundleFingerprints(identity.bundlePem) } : {}),
        }),
      );
    });
    socket.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => {
        let message = body;
        try {
          message = (JSON.parse(body) as { message?: string }).message ?? body;
        } catch {}
        refusedPermanently = res.statusCode === 401 || res.statusCode === 403;
        answered = true;
        problem(`zone refused the connection (HTTP ${res.statusCode}): ${message}`);
        socket.terminate();
      });
    });
    socket.on('message', (data) => {
      let msg: ZoneMessage;
      try {
        msg = decodeZoneMessage(String(data));
      } catch (err) {
        problem(`bad message from zone: ${(err as Error).message}`);
        return;
      }
      onMessage(socket, msg);
    });
    socket.on('error', (err) => {
      if (!closed && !answered) problem(`connection to ${explainTlsError(err, { url, server: 'meshca-zone', caFlag: '--ca-file' })}`);
    });
    socket.on('close', (code, reason) => {
      if (ws !== socket) return;
      ws = undefined;
      const was = connected;
      connected = false;
      if (was) emitter.emit('disconnected', `${code} ${String(reason)}`.trim());
      if (closed) return;
      if (code === 1000 || code === 1001 || code === 4409) attempt = 0;
      const refused = refusedPermanently || PERMANENT.has(code);
      // A replica that failed or is stopping: try the next one (a refusal would be the same anywhere).
      if (!refused && code !== 4409 && urls.length > 1) {
        replica++;
        log?.info({ from: url, to: urls[replica % urls.length] }, 'trying another zone replica');
      }
      retry(refused);
    });
  }

  function retry(slow: boolean): void {
    if (closed) return;
    attempt++;
    const ceiling = slow ? backoff.refusedMs : Math.min(backoff.maxMs, backoff.baseMs * 2 ** Math.min(attempt - 1, 30));
    const delay = ceiling / 2 + Math.random() * (ceiling / 2);
    timer = setTimeout(() => void connect(), delay);
  }

  function onMessage(socket: WebSocket, msg: ZoneMessage): void {
    switch (msg.type) {
      case 'registered':
        attempt = 0;
        return;
      case 'waiting':
        waiting = msg.reason;
        log?.info({ reason: msg.reason }, 'waiting for the zone');
        emitter.emit('waiting', msg.reason);
        return;
      case 'csr-request':
        socket.send(JSON.stringify({ type: 'csr', csrPem: newCsr(Array.isArray(msg.uriSans) ? msg.uriSans : []) }));
        return;
      case 'error':
        log?.warn({ err: msg.message, retryInMs: msg.retryInMs }, 'zone could not issue a certificate; keeping the current one');
        problem(msg.message);
        return;
      case 'refused':
        log?.error({ reason: msg.reason, err: msg.message }, 'zone refused this dataplane');
        problem(`zone refused this dataplane: ${msg.message}`);
        return;
      case 'tls': {
        const { type: _type, ...settings } = msg;
        if (JSON.stringify(settings) === JSON.stringify(tls)) return;
        tls = settings;
        log?.info({ mode: settings.mode, policies: settings.policies }, 'MeshTLS settings received');
        emitter.emit('tls', settings);
        return;
      }
      case 'bundle':
        // The zone sends 'waiting' again after a bundle when it still cannot issue.
        waiting = undefined;
        if (!identity) return;
        identity = { ...identity, bundlePem: msg.bundlePem, bundleBackends: msg.bundleBackends };
        context = undefined;
        emitter.emit('update', identity, 'bundle');
        return;
      case 'identity': {
        let keyPem = msg.keyPem;
        if (keyPem === undefined) {
          const leaf = new X509Certificate(msg.certChainPem);
          const spki = leaf.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
          keyPem = pendingKeys.get(spki);
          if (keyPem === undefined) {
            problem('zone sent a certificate for a key this agent did not request; ignored');
            return;
          }
          pendingKeys.delete(spki);
        }
        identity = {
          certChainPem: msg.certChainPem,
          keyPem,
          bundlePem: msg.bundlePem,
          bundleBackends: msg.bundleBackends,
          backend: msg.backend,
          serial: msg.serial,
          notBefore: new Date(msg.notBefore),
          notAfter: new Date(msg.notAfter),
        };
        context = undefined;
        waiting = undefined;
        lastError = undefined;
        rotations++;
        log?.info({ backend: msg.backend, serial: msg.serial, notAfter: msg.notAfter }, 'certificate received');
        emitter.emit('update', identity, 'certificate');
        return;
      }
    }
  }

  void connect();

  return Object.assign(emitter, {
    current: () => identity,
    tls: () => tls,
    secureContext() {
      if (!identity) return undefined;
      context ??= createSecureContext({ cert: identity.certChainPem, key: identity.keyPem, ca: identity.bundlePem });
      return context;
    },
    ready(timeoutMs = 30_000): Promise<Identity> {
      if (identity) return Promise.resolve(identity);
      return new Promise<Identity>((resolve, reject) => {
        const t = setTimeout(() => {
          emitter.off('update', done);
          reject(
            new Error(
              `no certificate from the zone within ${timeoutMs} ms${lastError ? `: ${lastError.message}` : waiting ? `: ${waiting}` : ''}`,
            ),
          );
        }, timeoutMs);
        const done = (id: Identity) => {
          clearTimeout(t);
          emitter.off('update', done);
          resolve(id);
        };
        emitter.on('update', done);
      });
    },
    status(): AgentStatus {
      return {
        mesh: opts.dataplane.mesh,
        name: opts.dataplane.name,
        connected,
        ...(identity
          ? {
              backend: identity.backend,
              serial: identity.serial,
              notAfter: identity.notAfter.toISOString(),
              bundleBackends: identity.bundleBackends,
            }
          : {}),
        rotations,
        ...(tls !== undefined ? { tls } : {}),
        ...(waiting !== undefined ? { waiting } : {}),
        ...(lastError ? { lastError } : {}),
      };
    },
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const socket = ws;
      if (socket && socket.readyState !== socket.CLOSED) {
        await new Promise<void>((resolve) => {
          socket.once('close', () => resolve());
          socket.close(1000, 'dataplane agent stopping');
          setTimeout(() => {
            socket.terminate();
            resolve();
          }, 2000).unref();
        });
      }
    },
  });
}

export function identityUrl(zone: string): string {
  const u = new URL(zone);
  if (u.protocol === 'https:') u.protocol = 'wss:';
  else if (u.protocol === 'http:') u.protocol = 'ws:';
  if (u.pathname === '/' || u.pathname === '') u.pathname = DATAPLANE_PATH;
  return u.toString();
}

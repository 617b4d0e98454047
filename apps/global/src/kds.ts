// Global's sync port: its own HTTPS listener with its own TLS material, KDS on it, zone tokens
// checked against the keyring, and each zone's last known state kept on its Zone resource so a
// restarted global (on Redis) still lists every zone it has seen.
import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { validateResource, type Resource, type ZoneSpec } from '@meshca/api';
import { generatedServerTls, listen, serverNames, type Logger } from '@meshca/common';
import { createKdsServer, zoneTokenAuthenticator, type KdsLimits, type KdsServer, type ZoneState } from '@meshca/kds';
import { ConflictError, NotFoundError, type ResourceStore } from '@meshca/store';
import type { TokenService } from '@meshca/tokens';

/** Label on global's Zone resource holding the zone's last known state (JSON). */
export const ZONE_STATE_LABEL = 'kds.meshca.io/last-state';

export interface SyncConfig {
  dataDir: string;
  address: string;
  port: number;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** Extra names for the generated certificate (--tls-san), besides serverNames()' defaults. */
  tlsSans?: readonly string[];
  limits?: Partial<KdsLimits>;
  software: { name: string; version: string };
  /** This global replica's id, recorded with the state of the zones streaming to it. */
  replica?: string;
  /** The API's port once it listens, told to zones so their refusals name it. */
  apiPort?: () => number | undefined;
}

export interface SyncListener {
  url: string;
  caFile: string | undefined;
  kds: KdsServer;
  close(): Promise<void>;
}

export async function startSync(
  config: SyncConfig,
  deps: { store: ResourceStore; tokens: TokenService; log: Logger; onZoneState?: (s: ZoneState) => void },
): Promise<SyncListener> {
  const { store, log } = deps;
  const tls = await syncTls(config, log);
  const server = createServer({ cert: tls.certPem, key: tls.keyPem });
  // Nothing but the WebSocket upgrade lives on this port.
  server.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('this is the KDS sync port: zones connect with a WebSocket to /kds\n');
  });
  const persist = zoneStatePersister(store, log, config.replica);
  const tokenAuth = (token: string | undefined) => zoneTokenAuthenticator(deps.tokens.issuer())(token);
  const kds = createKdsServer({
    ...config.limits,
    server,
    store,
    logger: log.child({ component: 'kds' }),
    software: config.software,
    ...(config.apiPort === undefined ? {} : { apiPort: config.apiPort }),
    authenticate: async (token) => {
      const auth = await tokenAuth(token);
      if (!auth.ok) return auth;
      const zone = await store.get({ type: 'Zone', name: auth.zone });
      if ((zone?.spec as ZoneSpec | undefined)?.enabled === false) {
        return { ok: false, code: 4403, reason: `zone "${auth.zone}" is disabled on global (Zone enabled: false)` };
      }
      return auth;
    },
    // A zone's MeshTrust reaches every other zone: it is checked like one applied on global.
    validate: (_zone, r) => {
      if (r.meta.type !== 'MeshTrust') return undefined;
      const errors = validateResource(r);
      return errors.length === 0 ? undefined : errors.map((e) => `${e.field}: ${e.message}`).join('; ');
    },
    onZoneState: (s) => {
      persist.onState(s);
      deps.onZoneState?.(s);
    },
  });
  // A revoked zone token (or signing key) also ends the stream it opened.
  deps.tokens.onChange(() => {
    kds.revalidate((_zone, credential) => deps.tokens.issuer().stillValid(credential)?.message);
  });
  await listen(server, config.port, config.address);
  const port = (server.address() as AddressInfo).port;
  const host = config.address === '0.0.0.0' || config.address === '::' ? '127.0.0.1' : config.address;
  const url = `wss://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log.info({ sync: url, caFile: tls.caFile }, 'KDS sync port listening');
  return {
    url,
    caFile: tls.caFile,
    kds,
    async close() {
      await kds.close();
      await persist.flush();
      await closeServer(server);
    },
  };
}

async function syncTls(config: SyncConfig, log: Logger): Promise<{ certPem: string; keyPem: string; caFile: string | undefined }> {
  if (config.tlsCertFile || config.tlsKeyFile) {
    if (!config.tlsCertFile || !config.tlsKeyFile) throw new Error('--sync-tls-cert and --sync-tls-key go together: give both or neither');
    const [certPem, keyPem] = await Promise.all([readFile(config.tlsCertFile, 'utf8'), readFile(config.tlsKeyFile, 'utf8')]);
    return { certPem, keyPem, caFile: undefined };
  }
  const hosts = await serverNames({ bindAddress: config.address, extra: config.tlsSans ?? [] });
  return generatedServerTls({ dir: config.dataDir, name: 'sync', hosts, log });
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** What is kept of a zone's state across restarts of global. */
/** `replica`: the global replica that holds (or held) the zone's stream. */
export type PersistedZoneState = Omit<ZoneState, 'zone' | 'inFlight' | 'bufferedBytes'> & { replica?: string };

export function persistedState(zone: Resource | undefined): PersistedZoneState | undefined {
  const raw = zone?.meta.labels[ZONE_STATE_LABEL];
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw) as PersistedZoneState;
  } catch {
    return undefined;
  }
}

/**
 * Writes a zone's state onto its Zone resource when it connects, disconnects, or gains a NACK —
 * not on every ACK or heartbeat: each write is a store revision. Zone is not a synced type, so
 * these writes never travel to zones.
 */
function zoneStatePersister(store: ResourceStore, log: Logger, replica: string | undefined) {
  const last = new Map<string, string>();
  let chain: Promise<void> = Promise.resolve();
  const fingerprint = (s: ZoneState) =>
    JSON.stringify([s.online, s.connectedAt, s.nacks.length, s.nacks.at(-1)?.at, s.refused.length, s.refused.at(-1)?.at]);

  async function write(s: ZoneState) {
    const { zone: name, inFlight: _f, bufferedBytes: _b, ...rest } = s;
    const state: PersistedZoneState = {
      ...rest,
      nacks: rest.nacks.slice(-5),
      refused: rest.refused.slice(-5),
      ...(replica === undefined ? {} : { replica }),
    };
    for (let attempt = 0; attempt < 5; attempt++) {
      const existing = await store.get({ type: 'Zone', name });
      const labels = { ...existing?.meta.labels, [ZONE_STATE_LABEL]: JSON.stringify(state) };
      try {
        if (existing === undefined) await store.create({ meta: { type: 'Zone', name, labels }, spec: { enabled: true } });
        else await store.update({ meta: { type: 'Zone', name, labels }, spec: existing.spec }, existing.meta.version);
        return;
      } catch (err) {
        // Someone (an operator's apply, a replica) wrote the Zone meanwhile: read again.
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
      }
    }
  }

  return {
    onState(s: ZoneState) {
      const f = fingerprint(s);
      if (last.get(s.zone) === f) return;
      last.set(s.zone, f);
      chain = chain
        .then(() => write(s))
        .catch((err: unknown) => {
          last.delete(s.zone); // written again with the zone's next state
          log.warn(
            { zone: s.zone, err: err instanceof Error ? err.message : String(err) },
            'could not record the zone state on its Zone resource',
          );
        });
    },
    flush: () => chain,
  };
}

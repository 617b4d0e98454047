// A zone's identity service on virtual time with in-process dataplanes: no socket, no TLS, no
// real waiting. vitest's fake timers drive the service's clocks (renewals, retries, spreads,
// grace periods) so that hours of certificate lifetimes pass in milliseconds.
import { EventEmitter } from 'node:events';
import { vi } from 'vitest';
import type { WebSocket } from 'ws';
import type { MtlsBackend } from '@meshca/api';
import { CaError, openCaBackend, type BackendEnv, type CaBackend } from '@meshca/ca';
import type { ResourceStore } from '@meshca/store';
import { createIdentityService, decodeZoneMessage, type DataplaneCertState, type IdentityService, type ZoneMessage } from '../src/index.js';
import { dataplane } from './resources.js';
import { log } from './test-zone.js';

/** The fake timers this harness runs on; setImmediate and microtasks stay real so crypto and the store still complete. */
export function useVirtualTime(): void {
  vi.useFakeTimers({
    toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'],
    now: Date.parse('2026-01-01T00:00:00Z'),
  });
}

/** Lets pending I/O callbacks and promise chains run without moving virtual time. */
export async function drain(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await vi.advanceTimersByTimeAsync(0);
    await new Promise<void>((r) => setImmediate(r));
  }
}

/** Moves virtual time forward in steps, letting work between timers finish. */
export async function advance(ms: number, stepMs = 250): Promise<void> {
  for (let left = ms; left > 0; left -= stepMs) {
    await vi.advanceTimersByTimeAsync(Math.min(stepMs, left));
    await drain(2);
  }
}

/**
 * The CA side of an outage: while `down`, every backend of every mesh fails to open and to issue
 * (retryable); while `refusing`, issuing is refused as a misconfigured CA refuses (not retryable).
 */
export interface CaSwitch {
  down: boolean;
  refusing: boolean;
  /** Issuance attempts that reached a backend. */
  attempts: number;
  /** Opens backends as the zone does, failing while `down`. */
  open(mesh: string, backend: MtlsBackend, env: BackendEnv): Promise<CaBackend>;
}

export function createCaSwitch(): CaSwitch {
  const outage = (backend: string) => new CaError(`CA of backend "${backend}" is down (test outage)`, true);
  const sw: CaSwitch = {
    down: false,
    refusing: false,
    attempts: 0,
    async open(mesh, backend, env) {
      if (sw.down) throw outage(backend.name);
      const ca = await openCaBackend(mesh, backend, env);
      const issue: CaBackend['issue'] = (req) => {
        sw.attempts++;
        if (sw.down) return Promise.reject(outage(backend.name));
        if (sw.refusing) return Promise.reject(new CaError(`backend "${backend.name}" refused: permission denied (test)`, false));
        return ca.issue(req);
      };
      return Object.assign(Object.create(ca) as CaBackend, { issue });
    },
  };
  return sw;
}

/** A socket the service can serve: what it sends is reassembled and handed to the dataplane. */
class VirtualSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  private partial: Buffer[] = [];

  constructor(private readonly onMessage: (m: ZoneMessage) => void) {
    super();
  }

  send(data: Buffer, opts: { fin?: boolean } | undefined, cb?: (err?: Error) => void): void {
    this.partial.push(Buffer.from(data));
    if (opts?.fin !== false) {
      const text = Buffer.concat(this.partial).toString('utf8');
      this.partial = [];
      this.onMessage(decodeZoneMessage(text));
    }
    queueMicrotask(() => cb?.());
  }

  close(code = 1000, reason = ''): void {
    if (this.readyState !== 1) return;
    this.readyState = 3;
    queueMicrotask(() => this.emit('close', code, Buffer.from(reason)));
  }

  terminate(): void {
    this.close(1006);
  }

  ping(): void {
    queueMicrotask(() => this.emit('pong'));
  }

  /** From the dataplane. */
  deliver(message: unknown): void {
    this.emit('message', Buffer.from(JSON.stringify(message)), false);
  }
}

/** What a dataplane holds, as it would see it. */
export interface VirtualDataplane {
  readonly name: string;
  connected: boolean;
  serial?: string;
  notAfter?: number;
  waiting?: string;
  lastError?: string;
  socket?: VirtualSocket;
}

export interface VirtualZone {
  readonly store: ResourceStore;
  service: IdentityService;
  readonly dataplanes: Map<string, VirtualDataplane>;
  connect(name: string): void;
  disconnect(name: string): void;
  /** Closes the service and starts a new one on the same store; every connected dataplane reconnects. */
  restart(): Promise<void>;
  state(name: string): DataplaneCertState | undefined;
  close(): Promise<void>;
}

export function startVirtualZone(opts: { store: ResourceStore; caSwitch: CaSwitch; mesh?: string }): VirtualZone {
  const mesh = opts.mesh ?? 'default';
  const make = () =>
    createIdentityService({
      store: opts.store,
      zone: 'zone-1',
      log,
      workers: 0,
      verifyToken: () => Promise.reject(new Error('not used: sockets are accepted directly')),
      openBackend: (m, b, env) => opts.caSwitch.open(m, b, env),
      graceMs: 30_000,
      insightIntervalMs: 1000,
      retry: { baseMs: 1000, maxMs: 300_000 },
      rotationSpreadMs: 10_000,
    });
  const dataplanes = new Map<string, VirtualDataplane>();
  const zone: VirtualZone = {
    store: opts.store,
    service: make(),
    dataplanes,
    connect(name) {
      const dp = dataplanes.get(name) ?? { name, connected: false };
      dataplanes.set(name, dp);
      if (dp.connected) return;
      const socket: VirtualSocket = new VirtualSocket((m) => {
        if (dp.socket !== socket) return;
        if (m.type === 'identity') {
          dp.serial = m.serial;
          dp.notAfter = Date.parse(m.notAfter);
          delete dp.waiting;
          delete dp.lastError;
        } else if (m.type === 'waiting') dp.waiting = m.reason;
        else if (m.type === 'bundle') delete dp.waiting;
        else if (m.type === 'error') dp.lastError = m.message;
      });
      socket.on('close', () => {
        if (dp.socket === socket) {
          dp.connected = false;
          delete dp.socket;
        }
      });
      dp.socket = socket;
      dp.connected = true;
      zone.service.accept(socket as unknown as WebSocket, { mesh, name, tags: { 'kuma.io/service': name } });
      socket.deliver({
        type: 'register',
        dataplane: dataplane(name, { 'kuma.io/service': name }, mesh),
        ...(dp.notAfter !== undefined ? { heldNotAfter: new Date(dp.notAfter).toISOString() } : {}),
      });
    },
    disconnect(name) {
      const dp = dataplanes.get(name);
      dp?.socket?.close(1000, 'dataplane stopping');
    },
    async restart() {
      const reconnect = [...dataplanes.values()].filter((d) => d.connected).map((d) => d.name);
      await zone.service.close();
      await drain();
      zone.service = make();
      for (const name of reconnect) zone.connect(name);
      await drain();
    },
    state(name) {
      return zone.service.dataplanes().find((d) => d.name === name);
    },
    async close() {
      await zone.service.close();
    },
  };
  return zone;
}

// A dataplane's side of the zone's WebSocket protocol, driven by hand.
import WebSocket from 'ws';
import { decodeZoneMessage, type ZoneMessage } from '../src/index.js';
import type { TestZone } from './test-zone.js';

/** A raw protocol client: every frame from the zone is queued and can be awaited by type. */
export interface RawClient {
  ws: WebSocket;
  frames: string[];
  messages: ZoneMessage[];
  next<T extends ZoneMessage['type']>(type: T, timeoutMs?: number): Promise<Extract<ZoneMessage, { type: T }>>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
}

export function connectRaw(zone: TestZone, token: string | undefined): Promise<RawClient> {
  const ws = new WebSocket(zone.url, {
    ca: zone.caPem,
    perMessageDeflate: false,
    ...(token !== undefined ? { headers: { authorization: `Bearer ${token}` } } : {}),
  });
  const frames: string[] = [];
  const messages: ZoneMessage[] = [];
  let cursor = 0;
  const waiters: (() => void)[] = [];
  ws.on('message', (data) => {
    frames.push(String(data));
    messages.push(decodeZoneMessage(String(data)));
    for (const w of waiters.splice(0)) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const client: RawClient = {
    ws,
    frames,
    messages,
    closed,
    send: (m) => ws.send(JSON.stringify(m)),
    async next(type, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        while (cursor < messages.length) {
          const m = messages[cursor++] as ZoneMessage;
          if (m.type === type) return m as never;
          if (m.type === 'refused') throw new Error(`refused: ${m.message}`);
        }
        if (Date.now() > deadline)
          throw new Error(`no ${type} message within ${timeoutMs} ms (got ${messages.map((m) => m.type).join(', ')})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}: ${body}`), { status: res.statusCode, body })));
    });
    ws.once('error', reject);
  });
}

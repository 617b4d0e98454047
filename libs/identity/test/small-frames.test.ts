import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket, { WebSocketServer } from 'ws';
import { eventually } from '@meshca/test/eventually';
import { SMALL_FRAME_BYTES, closeAfterSends, sendInSmallFrames } from '../src/small-frames.js';

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

/** A WebSocket client that keeps the server's frames as they came over the wire. */
async function rawClient(port: number): Promise<{ socket: Socket; frames: Frame[] }> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  socket.write(
    'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
  );
  const frames: Frame[] = [];
  let buf = Buffer.alloc(0);
  let upgraded = false;
  socket.on('data', (chunk: Buffer) => {
    buf = Buffer.concat([buf, chunk]);
    if (!upgraded) {
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      buf = buf.subarray(end + 4);
    }
    for (;;) {
      if (buf.length < 2) return;
      const b0 = buf[0] as number;
      let len = (buf[1] as number) & 0x7f;
      let at = 2;
      if (len === 126) {
        if (buf.length < 4) return;
        len = buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (buf.length < 10) return;
        len = Number(buf.readBigUInt64BE(2));
        at = 10;
      }
      if (buf.length < at + len) return;
      frames.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, payload: Buffer.from(buf.subarray(at, at + len)) });
      buf = buf.subarray(at + len);
    }
  });
  return { socket, frames };
}

/** Rebuilds messages from frames: data frames only, continuations joined to their first fragment. */
function messages(frames: Frame[]): string[] {
  const out: string[] = [];
  let parts: Buffer[] | undefined;
  for (const f of frames) {
    if (f.opcode >= 0x8) continue;
    if (f.opcode !== 0) {
      expect(parts, 'a new message started before the previous one ended').toBeUndefined();
      parts = [];
    }
    expect(parts, 'a continuation frame without a first fragment').toBeDefined();
    parts?.push(f.payload);
    if (f.fin) {
      out.push(Buffer.concat(parts ?? []).toString('utf8'));
      parts = undefined;
    }
  }
  return out;
}

describe('sendInSmallFrames', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    server = undefined;
  });

  async function serve(onConnection: (ws: WebSocket) => void): Promise<number> {
    server = createServer();
    new WebSocketServer({ server, perMessageDeflate: false }).on('connection', onConnection);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return (server.address() as AddressInfo).port;
  }

  it('sends a large message as text fragments of at most SMALL_FRAME_BYTES that rejoin to the message', async () => {
    const big = JSON.stringify({ type: 'identity', certPem: 'c'.repeat(2000), keyPem: 'k'.repeat(300), bundlePem: 'ü'.repeat(500) });
    const port = await serve((ws) => sendInSmallFrames(ws, big));
    const c = await rawClient(port);
    await eventually(() => expect(messages(c.frames).length).toBe(1));
    expect(messages(c.frames)).toEqual([big]);
    const data = c.frames.filter((f) => f.opcode < 0x8);
    expect(data.length).toBe(Math.ceil(Buffer.byteLength(big) / SMALL_FRAME_BYTES));
    expect(data[0]?.opcode).toBe(0x1);
    for (const f of data) expect(f.payload.length).toBeLessThanOrEqual(SMALL_FRAME_BYTES);
    expect(data.slice(1).every((f) => f.opcode === 0)).toBe(true);
    expect(data.map((f) => f.fin)).toEqual(data.map((_, i) => i === data.length - 1));
    c.socket.destroy();
  });

  it('keeps messages whole and in order when they are sent while a large one is still going out', async () => {
    const sent = [
      '{"type":"registered"}',
      JSON.stringify({ type: 'identity', certPem: 'x'.repeat(5000) }),
      '{"type":"waiting"}',
      JSON.stringify({ type: 'bundle', bundlePem: 'b'.repeat(1500) }),
    ];
    const port = await serve((ws) => {
      for (const m of sent) sendInSmallFrames(ws, m);
    });
    const c = await rawClient(port);
    await eventually(() => expect(messages(c.frames).length).toBe(sent.length));
    expect(messages(c.frames)).toEqual(sent);
    c.socket.destroy();
  });

  it('a real ws client receives the same messages', async () => {
    const sent = [JSON.stringify({ type: 'identity', certPem: 'z'.repeat(4000) }), '{"type":"bundle"}'];
    const port = await serve((ws) => {
      for (const m of sent) sendInSmallFrames(ws, m);
    });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
    const got: string[] = [];
    ws.on('message', (d) => got.push(String(d)));
    await eventually(() => expect(got.length).toBe(2));
    expect(got).toEqual(sent);
    ws.terminate();
  });

  it('closes only after a large refusal has gone out whole', async () => {
    const refusal = JSON.stringify({ type: 'refused', reason: 'forbidden', message: 'm'.repeat(3000) });
    const port = await serve((ws) => {
      sendInSmallFrames(ws, refusal);
      closeAfterSends(ws, 4403, 'forbidden');
    });
    const c = await rawClient(port);
    await eventually(() => expect(c.frames.some((f) => f.opcode === 0x8)).toBe(true));
    expect(messages(c.frames)).toEqual([refusal]);
    const close = c.frames.find((f) => f.opcode === 0x8);
    expect(close?.payload.readUInt16BE(0)).toBe(4403);
    c.socket.destroy();
  });
});

// Sends each message to a dataplane as WebSocket fragments of at most SMALL_FRAME_BYTES, each
// written after the previous one (of this message or the one before) has left, so that the
// encrypted bytes waiting in the socket never exceed 1 KiB.
//
// Why: Node's TLS socket encrypts into a 1 KiB output buffer and, the first time what waits in
// it does not fit, adds a 16 KiB one that it keeps for the connection's life. An identity
// message (certificate, key, bundle) is ~3 KB, so sent whole it adds ~13 KB of resident memory to
// every dataplane connection, which is a third of the zone's memory per dataplane at 10,000
// (measure: node --import tsx bench/tls-floor.ts --only wss --reply 3000 [--fragment 960]).
// Any RFC 6455 client reassembles fragments, so nothing changes for the dataplane.
import type { WebSocket } from 'ws';

/** Payload bytes per fragment: 1024 minus the TLS 1.3 record overhead (22) and the frame header (4), rounded down. */
export const SMALL_FRAME_BYTES = 960;

interface Outbox {
  queue: Buffer[];
  /** A close asked for while messages were still going out: sent after the last of them. */
  close?: { code: number; reason: string };
}

// Only sockets with something in flight have an outbox: an idle dataplane costs nothing here.
const outboxes = new WeakMap<WebSocket, Outbox>();

export function sendInSmallFrames(ws: WebSocket, text: string): void {
  const data = Buffer.from(text, 'utf8');
  const busy = outboxes.get(ws);
  if (busy) {
    busy.queue.push(data);
    return;
  }
  // A short message goes through here too: two writes in flight at once share the output buffer.
  const box: Outbox = { queue: [data] };
  outboxes.set(ws, box);
  drain(ws, box, 0);
}

/** Closes once every message sent before has gone out, so a refusal is read whole before the close. */
export function closeAfterSends(ws: WebSocket, code: number, reason: string): void {
  const busy = outboxes.get(ws);
  if (busy) busy.close = { code, reason };
  else ws.close(code, reason);
}

function finish(ws: WebSocket, box: Outbox): void {
  outboxes.delete(ws);
  if (box.close) ws.close(box.close.code, box.close.reason);
}

/** Sends the fragment of queue[0] that starts at `offset`, then the next one when it has been written. */
function drain(ws: WebSocket, box: Outbox, offset: number): void {
  const message = box.queue[0];
  if (message === undefined || ws.readyState !== ws.OPEN) return finish(ws, box);
  const end = Math.min(offset + SMALL_FRAME_BYTES, message.length);
  const fin = end === message.length;
  ws.send(message.subarray(offset, end), { binary: false, fin }, (err) => {
    if (err) return finish(ws, box);
    if (!fin) return drain(ws, box, end);
    box.queue.shift();
    if (box.queue.length === 0) finish(ws, box);
    else drain(ws, box, 0);
  });
}

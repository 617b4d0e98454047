// Mounts the identity service on the zone's HTTPS server: WebSocket upgrades on one path, with the
// dataplane token checked before the upgrade so an unauthenticated client never gets a socket.
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { DATAPLANE_PATH } from '@meshca/dp-protocol';
import type { IdentityService } from './service.js';

export interface DataplaneServerOptions {
  /** The zone's https.Server (an http.Server works too, for tests behind a TLS terminator). */
  server: Server;
  /** Default `/dataplanes`. */
  path?: string;
  /** Largest frame accepted from a dataplane. Default 64 KiB (a register with many inbounds, or a CSR). */
  maxPayload?: number;
}

export interface DataplaneServer {
  readonly wss: WebSocketServer;
  /** Stops taking upgrades (the service's close() ends the connections). */
  close(): void;
}

export function attachDataplaneServer(service: IdentityService, opts: DataplaneServerOptions): DataplaneServer {
  const path = opts.path ?? DATAPLANE_PATH;
  // No compression: it costs tens of KB per connection, and PEMs barely compress.
  const wss = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: opts.maxPayload ?? 64 * 1024,
    clientTracking: false,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const url = new URL(req.url ?? '/', 'http://zone');
    if (url.pathname !== path) return; // another handler's path (the zone may serve more than one)
    // A named function, not a closure: a closure here would keep this request (its headers, the
    // token) alive for the whole life of the connection. ws handles errors after the upgrade.
    socket.on('error', destroySocket);
    const header = req.headers.authorization;
    const token = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    Promise.resolve(service.verifyToken(token)).then(
      (result) => {
        if (!result.ok) {
          // A zone that has not received global's keys yet (just started) is not ready: 503, retry
          // soon. Anything else is the token's fault and stays so: 401.
          const notReady = result.error.reason === 'keys-unavailable';
          reject(socket, notReady ? 503 : 401, {
            reason: result.error.reason,
            message: `dataplane token ${notReady ? 'cannot be checked yet' : 'refused'}: ${result.error.message}`,
          });
          return;
        }
        socket.off('error', destroySocket);
        wss.handleUpgrade(req, socket, head, (ws) => service.accept(ws, result.claims));
      },
      (err: unknown) => {
        reject(socket, 500, { reason: 'internal', message: `token check failed: ${err instanceof Error ? err.message : String(err)}` });
      },
    );
  };
  opts.server.on('upgrade', onUpgrade);
  return {
    wss,
    close() {
      opts.server.off('upgrade', onUpgrade);
      wss.close();
    },
  };
}

function destroySocket(this: Duplex): void {
  this.destroy();
}

const STATUS_TEXT: Record<number, string> = { 401: 'Unauthorized', 500: 'Internal Server Error', 503: 'Service Unavailable' };

function reject(socket: Duplex, status: number, body: { reason: string; message: string }): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? 'Error'}\r\n` +
      `Content-Type: application/json\r\nConnection: close\r\n${status === 503 ? 'Retry-After: 1\r\n' : ''}` +
      `Content-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
  );
}

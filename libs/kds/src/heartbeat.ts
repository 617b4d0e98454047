// Both peers ping; a peer that answers nothing (no pong, no message) within `timeoutMs` is dead.
import type WebSocket from 'ws';

export interface Heartbeat {
  /** Call on any traffic from the peer. */
  seen(): void;
  stop(): void;
}

export function startHeartbeat(
  ws: WebSocket,
  opts: { intervalMs: number; timeoutMs: number; onTimeout: (silentMs: number) => void },
): Heartbeat {
  let lastSeen = Date.now();
  const seen = () => {
    lastSeen = Date.now();
  };
  ws.on('pong', seen);
  ws.on('ping', seen);
  const timer = setInterval(
    () => {
      const silent = Date.now() - lastSeen;
      if (silent > opts.timeoutMs) {
        stop();
        opts.onTimeout(silent);
        return;
      }
      if (ws.readyState === ws.OPEN) ws.ping();
    },
    Math.min(opts.intervalMs, opts.timeoutMs / 2),
  );
  timer.unref();
  function stop() {
    clearInterval(timer);
    ws.off('pong', seen);
    ws.off('ping', seen);
  }
  return { seen, stop };
}

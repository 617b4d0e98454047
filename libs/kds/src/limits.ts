// Stream limits shared by the server and the client; every one is configurable.
export interface KdsLimits {
  /** Largest frame either side sends or accepts (ws maxPayload); snapshots are split to fit. */
  maxMessageBytes: number;
  /** Versions sent and not yet ACKed/NACKed; the sender waits when reached. */
  maxInFlight: number;
  /** Bytes queued in the socket (ws bufferedAmount) above which the sender waits. */
  maxBufferedBytes: number;
  /** A peer more revisions behind than this gets one fresh snapshot instead of the deltas. */
  maxLagRevisions: number;
  /** Changes read from the change feed per delta. */
  maxChangesPerDelta: number;
  heartbeatIntervalMs: number;
  /** Silence (no pong, no message) after which the peer is dropped. */
  heartbeatTimeoutMs: number;
  /** Time a new connection has to send hello (server) / receive welcome (client). */
  handshakeTimeoutMs: number;
}

export const DEFAULT_LIMITS: KdsLimits = {
  maxMessageBytes: 4 * 1024 * 1024,
  maxInFlight: 8,
  maxBufferedBytes: 8 * 1024 * 1024,
  maxLagRevisions: 5_000,
  maxChangesPerDelta: 500,
  heartbeatIntervalMs: 2_000,
  heartbeatTimeoutMs: 6_000,
  handshakeTimeoutMs: 10_000,
};

export function resolveLimits(given: Partial<KdsLimits>): KdsLimits {
  const limits = { ...DEFAULT_LIMITS };
  for (const k of Object.keys(DEFAULT_LIMITS) as (keyof KdsLimits)[]) {
    const v = given[k];
    if (v === undefined) continue;
    if (!Number.isFinite(v) || v <= 0) throw new Error(`KDS limit ${k} must be a positive number, got ${v}`);
    limits[k] = v;
  }
  return limits;
}

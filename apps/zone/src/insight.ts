// The zone's own ZoneInsight, in its local store: KDS pushes it up, so global shows the zone's health.
// Written when its content changes (checked every interval), never just to refresh a timestamp:
// each write is a revision on both sides.
import type { ResourceStore } from '@meshca/store';
import { ConflictError, NotFoundError } from '@meshca/store';
import type { Logger } from '@meshca/common';

export function startInsightWriter(opts: {
  store: ResourceStore;
  zone: string;
  intervalMs: number;
  spec: () => Record<string, unknown>;
  log: Logger;
}): { stop(): Promise<void> } {
  const key = { type: 'ZoneInsight' as const, name: opts.zone };
  let last: string | undefined;
  let running: Promise<void> = Promise.resolve();

  async function write() {
    const spec = opts.spec();
    const text = JSON.stringify(spec);
    if (text === last) return;
    for (let attempt = 0; attempt < 3; attempt++) {
      const existing = await opts.store.get(key);
      try {
        if (existing === undefined) await opts.store.create({ meta: { ...key, labels: {} }, spec });
        else if (JSON.stringify(existing.spec) !== text)
          await opts.store.update({ meta: { ...key, labels: existing.meta.labels }, spec }, existing.meta.version);
        last = text;
        return;
      } catch (err) {
        if (!(err instanceof ConflictError) && !(err instanceof NotFoundError)) throw err;
      }
    }
  }
  const tick = () => {
    running = running.then(write).catch((err: unknown) => {
      opts.log.warn({ err: err instanceof Error ? err.message : String(err) }, "could not write this zone's ZoneInsight; retrying");
    });
  };
  tick();
  const timer = setInterval(tick, opts.intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}

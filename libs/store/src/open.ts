import { createMemoryStore } from './memory.js';
import { redactUrl } from './redact-url.js';
import type { ResourceStore } from './store.js';

/**
 * Opens the store a `--store` flag names: absent or `memory` for the in-process store;
 * `redis://[user:password@]host:port[/db][?prefix=name:]` or `rediss://…` (TLS) for Redis.
 */
export async function openStore(spec: string | undefined): Promise<ResourceStore> {
  if (spec === undefined || spec === '' || spec === 'memory') return createMemoryStore();
  if (spec.startsWith('redis://') || spec.startsWith('rediss://')) {
    const url = new URL(spec);
    const prefix = url.searchParams.get('prefix') ?? undefined;
    url.searchParams.delete('prefix'); // ours, not an ioredis option
    // Loaded only for Redis: a control plane on the memory store does not hold the client's code.
    const { createRedisStore } = await import('./redis.js');
    return createRedisStore(url.toString(), prefix === undefined ? {} : { prefix });
  }
  const shown = URL.canParse(spec) ? redactUrl(spec) : spec; // a URL may carry a password
  throw new Error(
    `unknown store "${shown}": use "memory" (the default), redis://host:port[/db][?prefix=name:] or rediss://host:port (TLS)`,
  );
}

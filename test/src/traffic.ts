// The one traffic loop of the test suites: requests made back to back along routes (who calls whom)
// until stopped, each counted and each failure kept. Routes between mesh services are below; tests
// of a single library make routes of their own calls.
import { setTimeout as sleep } from 'node:timers/promises';
import type { MeshService } from './mesh-env.js';

/** One direction of traffic. */
export interface Route {
  from: string;
  to: string;
  /** One request; throws when it fails. */
  call(): Promise<void>;
  /** The caller's certificate serial; read before each request and recorded when it succeeds. */
  serial?(): string | undefined;
}

export interface Traffic {
  /** Requests made, failed ones included. */
  readonly requests: number;
  /** Requests that succeeded, in all. */
  readonly ok: number;
  /** Requests that succeeded, per route (`<from> -> <to>`). */
  readonly okByRoute: Record<string, number>;
  /** One line per failed request: route, time, reason. */
  readonly failures: string[];
  /** Serials of the caller's certificate at each successful request, per caller (routes with `serial`). */
  readonly servedWith: Map<string, Set<string>>;
  /** Resolves once every route has had `n` more successful requests; rejects after `timeoutMs`. */
  more(n: number, timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Each route makes one request at a time, with `pauseMs` between them, until stopped. */
export function startTraffic(routes: Route[], opts: { pauseMs?: number } = {}): Traffic {
  const pauseMs = opts.pauseMs ?? 10;
  const name = (r: Route) => `${r.from} -> ${r.to}`;
  const okByRoute: Record<string, number> = Object.fromEntries(routes.map((r) => [name(r), 0]));
  const failures: string[] = [];
  const servedWith = new Map<string, Set<string>>();
  const waiters: { targets: Record<string, number>; resolve(): void }[] = [];
  let requests = 0;
  let running = true;
  const reached = (targets: Record<string, number>) => Object.entries(targets).every(([r, n]) => (okByRoute[r] ?? 0) >= n);
  const runs = routes.map(async (route) => {
    while (running) {
      const serial = route.serial?.();
      try {
        await route.call();
        okByRoute[name(route)] = (okByRoute[name(route)] ?? 0) + 1;
        if (serial !== undefined) {
          const seen = servedWith.get(route.from) ?? new Set<string>();
          seen.add(serial);
          servedWith.set(route.from, seen);
        }
      } catch (err) {
        failures.push(`${name(route)} at ${new Date().toISOString()}: ${(err as Error).message}`);
      }
      requests++;
      for (const w of waiters.filter((w) => reached(w.targets))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      await sleep(pauseMs);
    }
  });
  return {
    get requests() {
      return requests;
    },
    get ok() {
      return Object.values(okByRoute).reduce((a, b) => a + b, 0);
    },
    okByRoute,
    failures,
    servedWith,
    more: (n, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const targets = Object.fromEntries(Object.entries(okByRoute).map(([r, ok]) => [r, ok + n]));
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.targets === targets);
          if (i >= 0) waiters.splice(i, 1);
          reject(
            new Error(
              `not ${n} more answers on every route within ${timeoutMs} ms (${JSON.stringify(okByRoute)}); last failures: ${failures.slice(-3).join(' | ')}`,
            ),
          );
        }, timeoutMs);
        waiters.push({
          targets,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    async stop() {
      running = false;
      await Promise.all(runs);
    },
  };
}

/** `from` calls `to` over mTLS (a fresh connection each time) and expects the answer `<service>@<zone>`. */
export function serviceRoute(from: MeshService, to: MeshService): Route {
  const expected = `${to.service}@${to.zone}`;
  return {
    from: from.name,
    to: to.name,
    serial: () => from.handle.current()?.serial,
    async call() {
      const answer = await from.call(to);
      if (answer !== expected) throw new Error(`answered ${answer}`);
    },
  };
}

/** Both directions between every two of the services. */
export function serviceRoutes(...services: MeshService[]): Route[] {
  return services.flatMap((a) => services.filter((b) => b !== a).map((b) => serviceRoute(a, b)));
}

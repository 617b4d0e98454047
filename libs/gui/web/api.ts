// Talking to the control plane: JSON views with the admin token when one was given (kept in this
// tab's sessionStorage only: never in a URL, never in a log), ETags so an unchanged view costs a 304,
// and the events feed that says when to look again.
import { useEffect, useState } from 'preact/hooks';

const TOKEN_KEY = 'meshca.adminToken';

export const token = {
  get: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  set: (value: string): void => sessionStorage.setItem(TOKEN_KEY, value),
  clear: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = token.get();
  return t === null ? extra : { ...extra, authorization: `Bearer ${t}` };
}

const cache = new Map<string, { etag: string; body: unknown }>();

/** The data version an ETag names (the server's W/"<version>"). */
const versionOf = (etag: string): string => etag.replace(/^W\//, '').replace(/"/g, '');

/** GET a view; an unchanged one (304) comes from the cache. */
export async function getJson<T>(path: string): Promise<T> {
  return (await getVersioned<T>(path)).body;
}

/** GET a view and the data version it was made from. */
async function getVersioned<T>(path: string): Promise<{ body: T; version: string }> {
  const held = cache.get(path);
  const res = await fetch(path, { headers: headers(held ? { 'if-none-match': held.etag } : {}) });
  if (res.status === 304 && held) return { body: held.body as T, version: versionOf(held.etag) };
  if (!res.ok) {
    let detail = res.statusText;
    try {
      const body = (await res.json()) as { detail?: string };
      if (body.detail) detail = body.detail;
    } catch {
      // not JSON: the status text says enough
    }
    throw new HttpError(res.status, detail);
  }
  const body = (await res.json()) as T;
  const etag = res.headers.get('etag');
  if (etag) cache.set(path, { etag, body });
  return { body, version: etag ? versionOf(etag) : '' };
}

// ------------------------------------------------------------------ the events feed

type Listener = (version: string) => void;
const listeners = new Set<Listener>();
let version = '';
let running = false;

/** Reads text/event-stream through fetch (EventSource cannot send the token), reconnecting with backoff. */
async function follow(): Promise<void> {
  let delay = 500;
  for (;;) {
    try {
      const res = await fetch('/gui/api/events', { headers: headers(), cache: 'no-store' });
      if (!res.ok || !res.body) throw new HttpError(res.status, res.statusText);
      delay = 500;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = block
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => l.slice(6))
            .join('\n');
          if (data === '') continue;
          const next = (JSON.parse(data) as { version: string }).version;
          if (next !== version) {
            version = next;
            for (const l of listeners) l(version);
          }
        }
      }
    } catch {
      // the control plane is away or restarting: try again
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

/** Calls `listener` whenever the data behind the views may have changed. */
function onChange(listener: Listener): () => void {
  listeners.add(listener);
  if (!running) {
    running = true;
    void follow();
  }
  return () => listeners.delete(listener);
}

export interface ViewState<T> {
  data?: T;
  error?: HttpError | Error;
  loading: boolean;
}

/**
 * A view's data, fetched now and again whenever the feed names a version other than the one the
 * data was made from (so the feed's first message, naming the version just loaded, costs nothing).
 */
export function useView<T>(path: string, attempt = 0): ViewState<T> {
  const [state, setState] = useState<ViewState<T>>({ loading: true });
  useEffect(() => {
    let live = true;
    let have = '';
    let wanted = '';
    let loading = false;
    const load = (): void => {
      loading = true;
      getVersioned<T>(path)
        .then(
          ({ body, version }) => {
            have = version;
            if (live) setState({ data: body, loading: false });
          },
          (error: Error) => {
            have = wanted; // tried for this version: the next change tries again, not a loop
            if (live) setState((s) => ({ ...s, error, loading: false }));
          },
        )
        .finally(() => {
          loading = false;
          if (live && wanted !== '' && wanted !== have) load();
        });
    };
    setState((s) => ({ ...s, loading: true }));
    load();
    const stop = onChange((v) => {
      wanted = v;
      if (!loading && v !== have) load();
    });
    return () => {
      live = false;
      stop();
    };
  }, [path, attempt]);
  return state;
}

// The views are addressed by the URL's hash (#/meshes/default), so every state can be linked to and
// the server serves one page for all of them.
import { useEffect, useState } from 'preact/hooks';

export interface Route {
  /** Path segments after "#/", decoded. */
  parts: string[];
  query: URLSearchParams;
}

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#\/?/, '');
  const [path = '', query = ''] = text.split('?');
  return { parts: path.split('/').filter(Boolean).map(decodeURIComponent), query: new URLSearchParams(query) };
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function href(parts: string[], query?: URLSearchParams | Record<string, string>): string {
  const q = query === undefined ? '' : new URLSearchParams(query).toString();
  return `#/${parts.map(encodeURIComponent).join('/')}${q ? `?${q}` : ''}`;
}

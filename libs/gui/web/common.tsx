// Pieces every view uses: a titled page that takes focus when it opens (keyboard and screen reader
// users land on its heading), loading and error states, and status badges that do not rely on colour.
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { HttpError, type ViewState } from './api.js';

// The first view of a page load leaves focus where the browser put it (the top: Tab reaches the
// skip link first); every later view moves it to its heading, as a page load would.
let firstView = true;

export function Page(props: { title: string; children: ComponentChildren; subtitle?: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${props.title} · meshca`;
    if (firstView) firstView = false;
    else heading.current?.focus({ preventScroll: true });
  }, [props.title]);
  return (
    <>
      <h1 tabIndex={-1} ref={heading}>
        {props.title}
      </h1>
      {props.subtitle !== undefined && <p class="subtitle">{props.subtitle}</p>}
      {props.children}
    </>
  );
}

/** Renders `children(data)` once there is data; says what is wrong otherwise. */
export function Loaded<T>(props: { state: ViewState<T>; children: (data: T) => ComponentChildren }) {
  const { data, error } = props.state;
  if (error instanceof HttpError && (error.status === 401 || error.status === 403)) throw error;
  return (
    <>
      {error !== undefined && (
        <p class="error" role="alert">
          {data === undefined ? 'Could not load this view: ' : 'Showing the last data; the control plane did not answer: '}
          {error.message}
        </p>
      )}
      {data === undefined ? error === undefined && <p class="loading">Loading…</p> : props.children(data)}
    </>
  );
}

export function Badge(props: { ok: boolean; yes: string; no: string }) {
  return <span class={`badge ${props.ok ? 'ok' : 'bad'}`}>{props.ok ? `● ${props.yes}` : `○ ${props.no}`}</span>;
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="empty">{props.children}</p>;
}

/** A table's column headers. */
export function Head(props: { cols: string[] }) {
  return (
    <thead>
      <tr>
        {props.cols.map((c) => (
          <th scope="col">{c}</th>
        ))}
      </tr>
    </thead>
  );
}

// Every dataplane of every zone, filtered, sorted and paged by the server (the browser holds one
// page); the filters live in the URL, so a filtered view can be linked to.
import { useEffect, useState } from 'preact/hooks';
import type { DataplanePage } from '../src/contract.js';
import { useView } from './api.js';
import { Empty, Head, Loaded, Page } from './common.js';
import { shortHex, timeLeft, when } from './format.js';
import { href, parseRoute, type Route } from './route.js';

const SIZE = 50;
const FILTERS = ['mesh', 'zone', 'service', 'backend', 'expiresWithin', 'errors', 'q', 'sort'] as const;
type Filter = (typeof FILTERS)[number];

const EXPIRY_CHOICES: [string, string][] = [
  ['', 'any time'],
  ['soon', 'late (under 1/5 of its life left)'],
  ['0', 'already expired'],
  ['3600', 'within 1 hour'],
  ['21600', 'within 6 hours'],
  ['86400', 'within 24 hours'],
  ['604800', 'within 7 days'],
];

/**
 * Applies `changes` to the filters in the URL as it is now: a text filter applies its change after
 * a pause, and must not undo what another filter changed meanwhile.
 */
function setQuery(changes: Partial<Record<Filter | 'offset', string>>): void {
  const next = new URLSearchParams(parseRoute(location.hash).query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === '' || v === undefined) next.delete(k);
    else next.set(k, v);
  }
  if (!('offset' in changes)) next.delete('offset'); // a new filter starts at the first page
  location.hash = href(['dataplanes'], next);
}

function Select(props: { id: Filter; label: string; value: string; choices: [string, string][] }) {
  return (
    <label for={`f-${props.id}`}>
      {props.label}
      <select id={`f-${props.id}`} value={props.value} onChange={(e) => setQuery({ [props.id]: e.currentTarget.value })}>
        {props.choices.map(([value, text]) => (
          <option value={value}>{text}</option>
        ))}
      </select>
    </label>
  );
}

/** A text filter applied once typing pauses. */
function TextFilter(props: { id: Filter; label: string; value: string; list?: string }) {
  const [text, setText] = useState(props.value);
  useEffect(() => setText(props.value), [props.value]);
  useEffect(() => {
    if (text === props.value) return;
    const t = setTimeout(() => setQuery({ [props.id]: text }), 250);
    return () => clearTimeout(t);
  }, [text]);
  return (
    <label for={`f-${props.id}`}>
      {props.label}
      <input id={`f-${props.id}`} type="search" value={text} list={props.list} onInput={(e) => setText(e.currentTarget.value)} />
    </label>
  );
}

export function DataplanesPage(props: { route: Route }) {
  const { query } = props.route;
  const get = (k: Filter) => query.get(k) ?? '';
  const offset = Number(query.get('offset') ?? 0) || 0;
  const api = new URLSearchParams();
  for (const k of FILTERS) if (get(k) !== '') api.set(k, get(k));
  api.set('offset', String(offset));
  api.set('size', String(SIZE));
  const state = useView<DataplanePage>(`/gui/api/dataplanes?${api.toString()}`);
  const facets = state.data?.facets ?? { meshes: [], zones: [], services: [], backends: [] };
  const any = (label: string, values: string[]): [string, string][] => [['', label], ...values.map((v): [string, string] => [v, v])];
  return (
    <Page title="Dataplanes">
      <form class="filters" role="search" aria-label="Filter dataplanes" onSubmit={(e) => e.preventDefault()}>
        <Select id="mesh" label="Mesh" value={get('mesh')} choices={any('all meshes', facets.meshes)} />
        <Select id="zone" label="Zone" value={get('zone')} choices={any('all zones', facets.zones)} />
        <TextFilter id="service" label="Service (exact name)" value={get('service')} list="services" />
        <datalist id="services">
          {facets.services.slice(0, 500).map((s) => (
            <option value={s} />
          ))}
        </datalist>
        <Select id="backend" label="Backend" value={get('backend')} choices={any('all backends', facets.backends)} />
        <Select id="expiresWithin" label="Expires" value={get('expiresWithin')} choices={EXPIRY_CHOICES} />
        <TextFilter id="q" label="Name contains" value={get('q')} />
        <label for="f-errors" class="check">
          <input
            id="f-errors"
            type="checkbox"
            checked={get('errors') === '1'}
            onChange={(e) => setQuery({ errors: e.currentTarget.checked ? '1' : '' })}
          />
          Only failing
        </label>
        <Select
          id="sort"
          label="Sort by"
          value={get('sort')}
          choices={[
            ['', 'expiry, soonest first'],
            ['name', 'mesh and name'],
          ]}
        />
      </form>
      <Loaded state={state}>
        {(p) => (
          <>
            <p role="status" class="count">
              {p.total === 0
                ? 'No dataplane matches.'
                : `${p.offset + 1}–${p.offset + p.items.length} of ${p.total.toLocaleString('en-US')} dataplanes`}
            </p>
            {p.total === 0 ? (
              <Empty>Change or clear the filters above.</Empty>
            ) : (
              <table class="dataplanes">
                <caption class="sr-only">Dataplanes, {p.total} matching</caption>
                <Head
                  cols={['Mesh', 'Name', 'Zone', 'Service', 'Connected', 'Backend', 'Serial', 'Not after', 'Time left', 'Last error']}
                />
                <tbody>
                  {p.items.map((d) => (
                    <tr>
                      <td>{d.mesh}</td>
                      <th scope="row">
                        <a href={href(['dataplanes', d.mesh, d.name])}>{d.name}</a>
                      </th>
                      <td>{d.zone}</td>
                      <td>{d.service}</td>
                      <td>{d.zoneOffline ? `unknown (zone offline; was ${d.connected ? 'yes' : 'no'})` : d.connected ? 'yes' : 'no'}</td>
                      <td>{d.backend ?? '-'}</td>
                      <td class="mono">{shortHex(d.serial)}</td>
                      <td>{when(d.notAfter)}</td>
                      <td>{timeLeft(d.notAfter)}</td>
                      <td class="why">{d.lastError ?? ''}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <nav class="pager" aria-label="Pages">
              <button type="button" disabled={p.offset === 0} onClick={() => setQuery({ offset: String(Math.max(0, p.offset - SIZE)) })}>
                Previous page
              </button>
              <button type="button" disabled={p.offset + SIZE >= p.total} onClick={() => setQuery({ offset: String(p.offset + SIZE) })}>
                Next page
              </button>
            </nav>
          </>
        )}
      </Loaded>
    </Page>
  );
}

// meshca's GUI: read-only views of the control plane that serves it (global, or one zone).
import { render } from 'preact';
import { useErrorBoundary, useState } from 'preact/hooks';
import type { Overview } from '../src/contract.js';
import { HttpError, token, useView } from './api.js';
import { Page } from './common.js';
import { DataplanePage } from './dataplane.js';
import { DataplanesPage } from './dataplanes.js';
import { MeshPage } from './mesh.js';
import { OverviewView } from './overview.js';
import { useRoute, type Route } from './route.js';
import { TokenForm } from './token.js';
import { ZonesPage } from './zones.js';

function View(props: { route: Route }) {
  const [section, a, b] = props.route.parts;
  if (section === 'zones') return <ZonesPage />;
  if (section === 'meshes' && a !== undefined) return <MeshPage name={a} />;
  if (section === 'dataplanes' && a !== undefined && b !== undefined) return <DataplanePage mesh={a} name={b} />;
  if (section === 'dataplanes') return <DataplanesPage route={props.route} />;
  if (section === undefined) return <OverviewView />;
  return (
    <Page title="No such view">
      <p>
        Nothing at #/{props.route.parts.join('/')}. The views: <a href="#/">Overview</a>, <a href="#/zones">Zones</a>,{' '}
        <a href="#/dataplanes">Dataplanes</a>, and each mesh from the overview.
      </p>
    </Page>
  );
}

/** Catches a refused read anywhere below and asks for the token instead. */
function Guarded(props: { route: Route }) {
  const [attempt, setAttempt] = useState(0);
  const [error, reset] = useErrorBoundary();
  if (error instanceof HttpError && (error.status === 401 || error.status === 403)) {
    return (
      <TokenForm
        status={error.status}
        onToken={() => {
          setAttempt(attempt + 1);
          reset();
        }}
      />
    );
  }
  if (error !== undefined) {
    return (
      <p class="error" role="alert">
        {String(error)}
      </p>
    );
  }
  return <View key={`${props.route.parts.join('/')}#${attempt}`} route={props.route} />;
}

function Header(props: { route: Route }) {
  const o = useView<Overview>('/gui/api/overview').data;
  const current = (section: string) => ((props.route.parts[0] ?? '') === section ? { 'aria-current': 'page' as const } : {});
  const where = o === undefined ? '' : o.mode === 'zone' ? `zone ${o.zone ?? ''}` : 'global';
  return (
    <header>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), document.querySelector<HTMLElement>('main h1')?.focus())}>
        Skip to content
      </a>
      <span class="brand">meshca</span>
      {where && <span class="where">{where}</span>}
      <nav aria-label="Views">
        <a href="#/" {...current('')}>
          Overview
        </a>
        <a href="#/zones" {...current('zones')}>
          Zones
        </a>
        <a href="#/dataplanes" {...current('dataplanes')}>
          Dataplanes
        </a>
        {o?.meshes.map((m) => (
          <a
            href={`#/meshes/${encodeURIComponent(m.name)}`}
            {...(props.route.parts[1] === m.name && props.route.parts[0] === 'meshes' ? { 'aria-current': 'page' as const } : {})}
          >
            Mesh {m.name}
          </a>
        ))}
      </nav>
      {token.get() !== null && (
        <button
          type="button"
          class="link"
          onClick={() => {
            token.clear();
            location.reload();
          }}
        >
          Forget token
        </button>
      )}
    </header>
  );
}

function App() {
  const route = useRoute();
  return (
    <>
      <Header route={route} />
      <main id="main">
        <Guarded route={route} />
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(<App />, root);
}

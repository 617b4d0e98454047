// A mesh: its backends and their CAs, and the CA rotation drawn per backend and zone (who trusts
// it, who holds its certificates), with the steps the validators would accept now.
import type { MeshView, RotationRow } from '../src/contract.js';
import { useView } from './api.js';
import { Badge, Empty, Head, Loaded, Page } from './common.js';
import { timeLeft, when } from './format.js';
import { href } from './route.js';

/** A bar of `part` out of `whole`, with the numbers in text (the bar is decoration). */
function Bar(props: { label: string; part: number; whole: number; kind: string }) {
  const pct = props.whole === 0 ? 0 : Math.round((props.part / props.whole) * 100);
  return (
    <div class="bar-row">
      <span class="bar-label">{props.label}</span>
      <span class={`bar ${props.kind}`} aria-hidden="true">
        <span style={{ width: `${pct}%` }} />
      </span>
      <span class="bar-value">
        {props.part}/{props.whole}
      </span>
    </div>
  );
}

function RotationPicture(props: { rows: RotationRow[] }) {
  const backends = [...new Set(props.rows.map((r) => r.backend))];
  return (
    <div class="rotation">
      {backends.map((b) => {
        const rows = props.rows.filter((r) => r.backend === b);
        const first = rows[0];
        return (
          <figure class={`backend ${first?.enabled ? 'enabled' : ''}`} aria-labelledby={`rot-${b}`}>
            <figcaption id={`rot-${b}`}>
              {b} ({first?.type}){first?.enabled ? ': enabled' : ''}
            </figcaption>
            {rows.map((r) => (
              <div class="zone-rotation">
                <h4>zone {r.zone}</h4>
                <Bar label="trust its CA" part={r.trusting} whole={r.dataplanes} kind="trust" />
                <Bar label="hold its certificate" part={r.holding} whole={r.dataplanes} kind="hold" />
                {r.expired > 0 && <p class="why">{r.expired} hold an expired certificate from it</p>}
              </div>
            ))}
          </figure>
        );
      })}
    </div>
  );
}

export function MeshPage(props: { name: string }) {
  const state = useView<MeshView>(`/gui/api/meshes/${encodeURIComponent(props.name)}`);
  return (
    <Page title={`Mesh ${props.name}`}>
      <Loaded state={state}>
        {(m) => (
          <>
            <p>
              Enabled backend: <strong>{m.enabledBackend ?? 'none (mTLS off)'}</strong>.{' '}
              <a href={href(['dataplanes'], { mesh: m.name })}>
                {m.dataplanes.connected} of {m.dataplanes.total} dataplanes connected
              </a>
              {m.dataplanes.inOfflineZones > 0 && `, ${m.dataplanes.inOfflineZones} more as last reported by offline zones`}.
            </p>
            {m.offlineZones.length > 0 && (
              <p class="error">
                Offline: {m.offlineZones.map((z) => `zone ${z}`).join(', ')}. What {m.offlineZones.length === 1 ? 'it' : 'they'} reported
                last is shown below and may be out of date; rotation steps wait for {m.offlineZones.length === 1 ? 'it' : 'them'}.
              </p>
            )}
            <section aria-labelledby="backends-h">
              <h2 id="backends-h">Backends</h2>
              {m.backends.length === 0 ? (
                <Empty>No Mesh.mtls backends.</Empty>
              ) : (
                <table>
                  <caption class="sr-only">Backends of mesh {m.name}</caption>
                  <Head cols={['Backend', 'Type', 'Enabled', 'CA', 'CA not after', 'Validation', 'In zones']} />
                  <tbody>
                    {m.backends.map((b) => (
                      <tr>
                        <th scope="row">{b.name}</th>
                        <td>{b.type}</td>
                        <td>{b.enabled ? 'yes' : 'no'}</td>
                        <td>{b.ca?.subject || '-'}</td>
                        <td>{b.ca ? `${when(b.ca.notAfter)} (${timeLeft(b.ca.notAfter)})` : '-'}</td>
                        <td>{b.validation}</td>
                        <td>
                          {b.zones.length === 0
                            ? 'not reported'
                            : b.zones.map((z) => (
                                <div>
                                  {z.zone}: <Badge ok={z.available} yes="available" no="unavailable" />
                                  {!z.online && ' (last reported; zone offline)'}
                                  {z.error !== undefined && <span class="why"> {z.error}</span>}
                                </div>
                              ))}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
            </section>
            <section aria-labelledby="rotation-h">
              <h2 id="rotation-h">CA rotation</h2>
              {m.rotation.length === 0 ? (
                <Empty>No connected dataplanes reported by any zone.</Empty>
              ) : (
                <RotationPicture rows={m.rotation} />
              )}
              {m.steps.length > 0 && (
                <>
                  <h3>Next steps</h3>
                  <ul class="steps">
                    {m.steps.map((s) => (
                      <li class={s.allowed ? 'allowed' : 'blocked'}>
                        <span class="step-state">{s.allowed ? '✓ may be taken now' : '✗ not yet'}</span>: {s.title}
                        {s.reasons.length > 0 && (
                          <ul>
                            {s.reasons.map((r) => (
                              <li class="why">{r}</li>
                            ))}
                          </ul>
                        )}
                      </li>
                    ))}
                  </ul>
                </>
              )}
              {m.pending !== undefined && <p>CAs trusted in every zone (what MeshIdentity moves wait for): not yet, {m.pending}</p>}
            </section>
            {(m.identities.length > 0 || m.trusts.length > 0) && (
              <section aria-labelledby="wi-h">
                <h2 id="wi-h">Workload identity</h2>
                {m.identities.length > 0 && (
                  <table>
                    <caption>MeshIdentities per zone</caption>
                    <Head cols={['MeshIdentity', 'Zone', 'Trust domain', 'Ready', 'Hold its certificate']} />
                    <tbody>
                      {m.identities.flatMap((i) =>
                        (i.zones.length === 0 ? [undefined] : i.zones).map((z) => (
                          <tr>
                            <th scope="row">{i.name}</th>
                            <td>{z?.zone ?? '-'}</td>
                            <td>{z?.trustDomain ?? '-'}</td>
                            <td>{z === undefined ? 'not reported' : z.ready ? 'yes' : `no (${z.reason ?? '?'})`}</td>
                            <td>{z?.dataplanes ?? 0}</td>
                          </tr>
                        )),
                      )}
                    </tbody>
                  </table>
                )}
                {m.trusts.length > 0 && (
                  <table>
                    <caption>MeshTrusts</caption>
                    <Head cols={['MeshTrust', 'Zone', 'Trust domain', 'CAs', 'Trusted by']} />
                    <tbody>
                      {m.trusts.map((t) => (
                        <tr>
                          <th scope="row">{t.name}</th>
                          <td>{t.zone}</td>
                          <td>{t.trustDomain}</td>
                          <td>{t.cas}</td>
                          <td>
                            {t.trusting}/{t.connected}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
            )}
          </>
        )}
      </Loaded>
    </Page>
  );
}

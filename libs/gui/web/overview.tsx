import type { Overview } from '../src/contract.js';
import { useView } from './api.js';
import { Badge, Empty, Head, Loaded, Page } from './common.js';
import { ago, timeLeft } from './format.js';
import { href } from './route.js';

export function OverviewView() {
  const state = useView<Overview>('/gui/api/overview');
  return (
    <Page title="Overview">
      <Loaded state={state}>
        {(o) => (
          <>
            <section aria-labelledby="problems">
              <h2 id="problems">Needs attention</h2>
              {o.problems.length === 0 ? (
                <Empty>Nothing: every zone is online and no dataplane is failing.</Empty>
              ) : (
                <ul class="problems">
                  {o.problems.map((p) => (
                    <li class={`problem ${p.kind}`}>
                      <a href={p.link}>{p.message}</a>
                    </li>
                  ))}
                </ul>
              )}
            </section>
            <div class="cards">
              <section aria-labelledby="zones-h" class="card">
                <h2 id="zones-h">
                  <a href="#/zones">Zones</a>
                </h2>
                <p class="big">
                  {o.zones.filter((z) => z.online).length} of {o.zones.length} online
                </p>
                <table>
                  <caption class="sr-only">Zones</caption>
                  <Head cols={['Zone', 'Status', 'Last seen', 'ACKed revision']} />
                  <tbody>
                    {o.zones.map((z) => (
                      <tr>
                        <td>
                          <a href={href(['dataplanes'], { zone: z.name })}>{z.name}</a>
                        </td>
                        <td>
                          <Badge ok={z.online} yes="Online" no="Offline" />
                        </td>
                        <td>{ago(z.lastSeen)}</td>
                        <td>{z.ackedRevision ?? '-'}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
              <section aria-labelledby="meshes-h" class="card">
                <h2 id="meshes-h">Meshes</h2>
                {o.meshes.length === 0 ? (
                  <Empty>No Mesh yet: apply one on global (meshctl apply -f mesh.yaml).</Empty>
                ) : (
                  <table>
                    <caption class="sr-only">Meshes</caption>
                    <Head cols={['Mesh', 'Enabled backend', 'Backends', 'Dataplanes']} />
                    <tbody>
                      {o.meshes.map((m) => (
                        <tr>
                          <td>
                            <a href={href(['meshes', m.name])}>{m.name}</a>
                          </td>
                          <td>{m.enabledBackend ?? 'mTLS off'}</td>
                          <td>{m.backends.map((b) => `${b.name} (${b.type})`).join(', ') || '-'}</td>
                          <td>
                            <a href={href(['dataplanes'], { mesh: m.name })}>{m.dataplanes.toLocaleString('en-US')}</a>
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                )}
              </section>
              <section aria-labelledby="dps-h" class="card">
                <h2 id="dps-h">
                  <a href="#/dataplanes">Dataplanes</a>
                </h2>
                <table>
                  <caption class="sr-only">Dataplanes by zone</caption>
                  <Head cols={['Zone', 'Connected', 'Known']} />
                  <tbody>
                    {o.dataplanesByZone.map((z) => (
                      <tr>
                        <td>
                          <a href={href(['dataplanes'], { zone: z.zone })}>{z.zone}</a>
                        </td>
                        <td>
                          {z.connected.toLocaleString('en-US')}
                          {!z.online && ' (last reported: the zone is offline)'}
                        </td>
                        <td>{z.total.toLocaleString('en-US')}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </section>
            </div>
            <section aria-labelledby="expiring-h">
              <h2 id="expiring-h">Certificates expiring soon ({o.expiringSoon.total.toLocaleString('en-US')})</h2>
              {o.expiringSoon.total === 0 ? (
                <Empty>None: every connected dataplane has more than 1/5 of its certificate's lifetime left.</Empty>
              ) : (
                <>
                  <table>
                    <caption class="sr-only">Certificates expiring soon, soonest first</caption>
                    <Head cols={['Dataplane', 'Zone', 'Backend', 'Time left']} />
                    <tbody>
                      {o.expiringSoon.items.map((d) => (
                        <tr>
                          <td>
                            <a href={href(['dataplanes', d.mesh, d.name])}>{d.name}</a>
                          </td>
                          <td>{d.zone}</td>
                          <td>{d.backend ?? '-'}</td>
                          <td>{timeLeft(d.notAfter)}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                  <p>
                    <a href={href(['dataplanes'], { expiresWithin: 'soon' })}>All {o.expiringSoon.total.toLocaleString('en-US')}</a>
                  </p>
                </>
              )}
            </section>
          </>
        )}
      </Loaded>
    </Page>
  );
}

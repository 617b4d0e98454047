import type { ZonesView } from '../src/contract.js';
import { useView } from './api.js';
import { Badge, Empty, Head, Loaded, Page } from './common.js';
import { ago, when } from './format.js';
import { href } from './route.js';

export function ZonesPage() {
  const state = useView<ZonesView>('/gui/api/zones');
  return (
    <Page title="Zones">
      <Loaded state={state}>
        {(v) =>
          v.items.length === 0 ? (
            <Empty>No zone has connected yet: start one with a zone token (meshctl generate zone-token).</Empty>
          ) : (
            <>
              <table>
                <caption class="sr-only">Zones and their streams</caption>
                <Head cols={['Zone', 'Status', 'Status since', 'Last seen', 'ACKed / sent', 'Lag', 'NACKs', 'Version', 'Leader']} />
                <tbody>
                  {v.items.map((z) => (
                    <tr>
                      <th scope="row">
                        <a href={href(['dataplanes'], { zone: z.name })}>{z.name}</a>
                      </th>
                      <td>
                        <Badge ok={z.online} yes="Online" no="Offline" />
                      </td>
                      <td>{z.online ? ago(z.connectedAt) : ago(z.disconnectedAt)}</td>
                      <td>{ago(z.lastSeen)}</td>
                      <td>
                        {z.ackedRevision ?? '-'} / {z.sentRevision ?? '-'}
                      </td>
                      <td>{z.lag ?? '-'}</td>
                      <td>{z.nacks}</td>
                      <td>{z.software?.version ?? '-'}</td>
                      <td>{z.leader ?? '-'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              {v.items.map((z) => (
                <section aria-labelledby={`zone-${z.name}`} class="zone">
                  <h2 id={`zone-${z.name}`}>{z.name}</h2>
                  {z.lastDisconnect !== undefined && <p>Last disconnect: {z.lastDisconnect}</p>}
                  <Nacks title="Versions it refused (NACKs)" list={z.nackList} />
                  <Nacks title="Its versions global refused" list={z.refused} />
                  <h3>CA backends it runs{z.online ? '' : ' (as it last reported)'}</h3>
                  {z.backends.length === 0 ? (
                    <Empty>None reported.</Empty>
                  ) : (
                    <ul>
                      {z.backends.map((b) => (
                        <li>
                          <a href={href(['meshes', b.mesh])}>{b.mesh}</a> / {b.backend} ({b.type}):{' '}
                          <Badge ok={b.available} yes="available" no="unavailable" />
                          {b.error !== undefined && <span class="why"> {b.error}</span>}
                          {b.ca !== undefined && (
                            <span class="ca">
                              {' '}
                              CA {b.ca.subject || '(no subject)'}, until {when(b.ca.notAfter)}
                            </span>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
              ))}
            </>
          )
        }
      </Loaded>
    </Page>
  );
}

function Nacks(props: { title: string; list: { revision: number; reason: string; at: string }[] }) {
  if (props.list.length === 0) return null;
  return (
    <>
      <h3>{props.title}</h3>
      <ul>
        {props.list.map((n) => (
          <li>
            revision {n.revision} at {when(n.at)}: {n.reason}
          </li>
        ))}
      </ul>
    </>
  );
}

import type { ComponentChildren } from 'preact';
import type { DataplaneDetail } from '../src/contract.js';
import { useView } from './api.js';
import { Badge, Loaded, Page } from './common.js';
import { ago, timeLeft, when } from './format.js';
import { href } from './route.js';

function Row(props: { name: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{props.name}</dt>
      <dd>{props.children}</dd>
    </>
  );
}

export function DataplanePage(props: { mesh: string; name: string }) {
  const state = useView<DataplaneDetail>(`/gui/api/dataplanes/${encodeURIComponent(props.mesh)}/${encodeURIComponent(props.name)}`);
  return (
    <Page title={`Dataplane ${props.name}`} subtitle={<a href={href(['meshes', props.mesh])}>mesh {props.mesh}</a>}>
      <Loaded state={state}>
        {(d) => (
          <>
            <dl class="facts">
              <Row name="Zone">{d.zone}</Row>
              <Row name="Connected">
                {d.zoneOffline ? (
                  `unknown: zone ${d.zone} is offline; it last reported ${d.connected ? 'connected' : 'disconnected'}`
                ) : (
                  <Badge
                    ok={d.connected}
                    yes={`yes, since ${ago(d.connectedAt)}`}
                    no={`no${d.disconnectedAt ? `, since ${ago(d.disconnectedAt)}` : ''}`}
                  />
                )}
              </Row>
              <Row name="Service">{d.service}</Row>
              <Row name="Address">{d.address ?? '-'}</Row>
              <Row name="Tags">
                {Object.entries(d.tags)
                  .map(([k, v]) => `${k}=${v.join(',')}`)
                  .join('  ') || '-'}
              </Row>
              <Row name="Issuing backend">{d.backend ?? '-'}</Row>
              <Row name="Serial">
                <span class="mono">{d.serial ?? '-'}</span>
              </Row>
              <Row name="Not after">
                {when(d.notAfter)} ({timeLeft(d.notAfter)})
              </Row>
              <Row name="Issued">
                {when(d.lastRegeneration)}
                {d.regenerations !== undefined ? `, certificate number ${d.regenerations} since it connected` : ''}
              </Row>
              <Row name="Trusts (bundle)">{d.trusts.join(', ') || '-'}</Row>
              {d.pending !== undefined && <Row name="Pending">{d.pending}</Row>}
              {d.lastError !== undefined && (
                <Row name="Last error">
                  <span class="why">{d.lastError}</span>
                </Row>
              )}
            </dl>
            <section aria-labelledby="cert-h">
              <h2 id="cert-h">Certificate</h2>
              {d.certificate === undefined ? (
                <p>The zone reported no certificate details for it.</p>
              ) : (
                <>
                  <dl class="facts">
                    <Row name="Subject">{d.certificate.subject || '(empty: the identity is in the SANs)'}</Row>
                    <Row name="Issuer">{d.certificate.issuer}</Row>
                    <Row name="Valid from">{when(d.certificate.notBefore)}</Row>
                    <Row name="URI SANs">
                      <ul class="plain">
                        {d.certificate.uriSans.map((u) => (
                          <li class="mono">{u}</li>
                        ))}
                      </ul>
                    </Row>
                    {d.certificate.dnsSans !== undefined && <Row name="DNS SANs">{d.certificate.dnsSans.join(', ')}</Row>}
                    <Row name="SHA-256">
                      <span class="mono wrap">{d.certificate.sha256}</span>
                    </Row>
                  </dl>
                  <h3>Chain</h3>
                  <ol class="chain">
                    {d.certificate.chain.map((c) => (
                      <li>
                        <strong>{c.subject || '(no subject)'}</strong>, issued by {c.issuer || '(no subject)'}, until {when(c.notAfter)}
                        <div class="mono wrap small">{c.sha256}</div>
                      </li>
                    ))}
                  </ol>
                </>
              )}
            </section>
          </>
        )}
      </Loaded>
    </Page>
  );
}

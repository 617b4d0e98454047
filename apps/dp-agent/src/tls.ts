// mTLS for a Node service from the live identity: a server whose context follows rotations, a
// client agent per certificate, and the SPIFFE ID check that replaces hostname verification.
import { X509Certificate } from 'node:crypto';
import type { RequestListener } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import type { IdentityHandle } from './client.js';

export type SpiffeAllow = readonly string[] | ((spiffeId: string) => boolean);

/** The spiffe:// URI SANs of a certificate. */
export function peerSpiffeIds(cert: PeerCertificate | X509Certificate | undefined): string[] {
  const sans = cert === undefined ? undefined : cert instanceof X509Certificate ? cert.subjectAltName : cert.subjectaltname;
  if (typeof sans !== 'string') return [];
  return sans
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:spiffe://'))
    .map((s) => s.slice(4));
}

/**
 * Undefined when the peer presents an allowed SPIFFE ID, else an Error saying what it presented.
 * Shaped like tls's checkServerIdentity, so it can be used as one. The chain itself is checked
 * by TLS against the mesh bundle.
 */
export function verifyPeerSpiffe(cert: PeerCertificate | X509Certificate | undefined, allowed: SpiffeAllow): Error | undefined {
  const ids = peerSpiffeIds(cert);
  const ok = typeof allowed === 'function' ? ids.some((id) => allowed(id)) : ids.some((id) => allowed.includes(id));
  if (ok) return undefined;
  const wanted = typeof allowed === 'function' ? 'an allowed SPIFFE ID' : allowed.join(' or ');
  return new Error(`peer presented ${ids.length > 0 ? ids.join(', ') : 'no SPIFFE ID'}; expected ${wanted}`);
}

/**
 * An HTTPS server that requires a client certificate from the mesh and a SPIFFE ID in `allowed`
 * (403 otherwise), and switches to every new certificate or bundle for new connections.
 */
export async function createMtlsServer(handle: IdentityHandle, allowed: SpiffeAllow, listener: RequestListener): Promise<Server> {
  const id = await handle.ready();
  const server = createServer(
    { cert: id.certChainPem, key: id.keyPem, ca: id.bundlePem, requestCert: true, rejectUnauthorized: true },
    (req, res) => {
      const problem = verifyPeerSpiffe((req.socket as TLSSocket).getPeerCertificate(), allowed);
      if (problem) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end(`${problem.message}\n`);
        return;
      }
      listener(req, res);
    },
  );
  const onUpdate = (next: { certChainPem: string; keyPem: string; bundlePem: string }) =>
    server.setSecureContext({ cert: next.certChainPem, key: next.keyPem, ca: next.bundlePem });
  handle.on('update', onUpdate);
  server.on('close', () => handle.off('update', onUpdate));
  return server;
}

/**
 * A function returning an https.Agent that presents the current certificate, trusts the current
 * bundle and accepts only servers with an allowed SPIFFE ID; a new agent after every update.
 */
export function mtlsAgent(handle: IdentityHandle, allowed: SpiffeAllow): () => Agent {
  let agent: Agent | undefined;
  let forSerial: string | undefined;
  let forBundle: string | undefined;
  return () => {
    const id = handle.current();
    if (!id) throw new Error('no certificate yet: await handle.ready() first');
    if (!agent || forSerial !== id.serial || forBundle !== id.bundlePem) {
      // The previous agent is left to finish its requests (no keep-alive: its sockets close after them).
      agent = new Agent({
        cert: id.certChainPem,
        key: id.keyPem,
        ca: id.bundlePem,
        checkServerIdentity: (_host, cert) => verifyPeerSpiffe(cert, allowed),
      });
      forSerial = id.serial;
      forBundle = id.bundlePem;
    }
    return agent;
  };
}

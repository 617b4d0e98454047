// mTLS for a Node service from the live identity: a server whose context follows rotations, a
// client agent per certificate, and the SPIFFE ID check that replaces hostname verification.
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type RequestListener } from 'node:http';
import { Agent, createServer, type Server } from 'node:https';
import type { Socket } from 'node:net';
import { TLSSocket, type PeerCertificate, type SecureVersion } from 'node:tls';
import type { IdentityHandle, TlsSettings } from './client.js';

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

/** MeshTLS version names -> Node's. */
const TLS_VERSION = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

/** The secure-context options of the current MeshTLS settings (versions, ciphers). */
export function tlsOptions(settings: TlsSettings | undefined): {
  minVersion?: SecureVersion;
  maxVersion?: SecureVersion;
  ciphers?: string;
} {
  const version = (v: string | undefined) => (v !== undefined && v in TLS_VERSION ? TLS_VERSION[v as keyof typeof TLS_VERSION] : undefined);
  const min = version(settings?.minVersion);
  const max = version(settings?.maxVersion);
  return {
    ...(min !== undefined ? { minVersion: min } : {}),
    ...(max !== undefined ? { maxVersion: max } : {}),
    ...(settings?.ciphers !== undefined && settings.ciphers.length > 0 ? { ciphers: settings.ciphers.join(':') } : {}),
  };
}

/** Whether a request came over mTLS (in Permissive mode plaintext requests reach the listener too). */
export function isMtls(req: IncomingMessage): boolean {
  return req.socket instanceof TLSSocket && req.socket.authorized;
}

/**
 * An HTTPS server that requires a client certificate from the mesh and a SPIFFE ID in `allowed`
 * (403 otherwise), and switches to every new certificate or bundle for new connections. It follows
 * the dataplane's MeshTLS settings: in Permissive mode it also takes plaintext HTTP on the same port
 * (told apart by the first byte: a TLS handshake starts with 0x16), and versions and ciphers apply
 * to new connections. Plaintext requests reach `listener` without a peer identity (see isMtls).
 */
export async function createMtlsServer(handle: IdentityHandle, allowed: SpiffeAllow, listener: RequestListener): Promise<Server> {
  const id = await handle.ready();
  const server = createServer(
    { cert: id.certChainPem, key: id.keyPem, ca: id.bundlePem, requestCert: true, rejectUnauthorized: true, ...tlsOptions(handle.tls()) },
    (req, res) => {
      const problem = verifyPeerSpiffe((req.socket as TLSSocket).getPeerCertificate(), allowed);
      if (problem) {
        res.writeHead(403, { 'content-type': 'text/plain' }).end(`${problem.message}\n`);
        return;
      }
      listener(req, res);
    },
  );
  const plain = createHttpServer(listener);
  // TLS's own connection handling, called for sockets that start a handshake.
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');
  server.on('connection', (socket: Socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      if (first[0] === 0x16) for (const l of tlsListeners) l.call(server, socket);
      else if (handle.tls()?.mode === 'Permissive') plain.emit('connection', socket);
      else {
        socket.destroy();
        return;
      }
      process.nextTick(() => socket.resume());
    });
  });
  const refresh = () => {
    const next = handle.current();
    if (next) server.setSecureContext({ cert: next.certChainPem, key: next.keyPem, ca: next.bundlePem, ...tlsOptions(handle.tls()) });
  };
  // Strict from now on: plaintext connections kept alive from Permissive times end too.
  const onTls = () => {
    refresh();
    if (handle.tls()?.mode !== 'Permissive') plain.closeAllConnections();
  };
  handle.on('update', refresh);
  handle.on('tls', onTls);
  server.on('close', () => {
    handle.off('update', refresh);
    handle.off('tls', onTls);
    plain.closeAllConnections();
  });
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
        ...tlsOptions(handle.tls()),
        checkServerIdentity: (_host, cert) => verifyPeerSpiffe(cert, allowed),
      });
      forSerial = id.serial;
      forBundle = id.bundlePem;
    }
    return agent;
  };
}

import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createLeafSigner, generateCa, generateP256Key } from '../src/index.js';
import type { CaMaterial } from '../src/index.js';

function leaf(ca: CaMaterial, uri: string): { cert: string; key: string } {
  const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
  const key = generateP256Key();
  const notBefore = new Date(Date.now() - 60_000);
  const cert = signer.sign({ publicKey: key.spkiDer, uriSans: [uri], notBefore, notAfter: new Date(notBefore.getTime() + 3600_000) });
  return { cert, key: key.keyPem };
}

const servers: tls.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise((r) => s.close(r));
});

async function handshake(serverCa: CaMaterial, clientCa: CaMaterial, trust: string): Promise<{ peerUri: string; serverSawUri: string }> {
  const server = leaf(serverCa, 'spiffe://default/backend');
  const client = leaf(clientCa, 'spiffe://default/frontend');
  let serverSawUri = '';
  const srv = tls.createServer({ ...server, ca: trust, requestCert: true, rejectUnauthorized: true }, (socket) => {
    serverSawUri = socket.getPeerCertificate().subjectaltname ?? '';
    socket.end('hello');
  });
  servers.push(srv);
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const { port } = srv.address() as AddressInfo;
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ...client,
    ca: trust,
    rejectUnauthorized: true,
    // SPIFFE identities are URIs, not host names: check the peer's URI instead.
    checkServerIdentity: (_host, cert) =>
      cert.subjectaltname === 'URI:spiffe://default/backend' ? undefined : new Error(`unexpected peer ${cert.subjectaltname}`),
  });
  let received = '';
  let peerUri = '';
  socket.on('data', (d: Buffer) => (received += d.toString()));
  socket.on('secureConnect', () => (peerUri = socket.getPeerCertificate().subjectaltname ?? ''));
  // With TLS 1.3 the client finishes its side before the server has judged the client
  // certificate: only the server's answer proves that both sides accepted.
  socket.on('error', () => {});
  await once(socket, 'close');
  if (received !== 'hello') throw new Error('handshake refused: the server closed without answering');
  return { peerUri, serverSawUri };
}

describe('leaf certificates in a real TLS handshake', () => {
  it('authenticate both sides with the mesh root as the only trust anchor', async () => {
    const ca = generateCa({ commonName: 'mesh root', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const { peerUri, serverSawUri } = await handshake(ca, ca, ca.certPem);
    expect(peerUri).toBe('URI:spiffe://default/backend');
    expect(serverSawUri).toBe('URI:spiffe://default/frontend');
  });

  it('work under an RSA root too', async () => {
    const ca = generateCa({ commonName: 'mesh rsa root', keyType: { rsaBits: 2048 }, validitySeconds: 3600 });
    const { peerUri } = await handshake(ca, ca, ca.certPem);
    expect(peerUri).toBe('URI:spiffe://default/backend');
  });

  it('are refused by a peer that does not trust their CA, and accepted with a two-root bundle', async () => {
    const a = generateCa({ commonName: 'root a', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    const b = generateCa({ commonName: 'root b', keyType: 'ecdsa-p256', validitySeconds: 3600 });
    await expect(handshake(a, b, a.certPem)).rejects.toThrow();
    const { serverSawUri } = await handshake(a, b, a.certPem + b.certPem);
    expect(serverSawUri).toBe('URI:spiffe://default/frontend');
  });
});

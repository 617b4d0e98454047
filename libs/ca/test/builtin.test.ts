import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCsr, createIssuerPool, generateP256Key, isIssuedBy, parseCertificate, verifyKeyMatchesCert } from '@meshca/pki';
import type { IssuerPool } from '@meshca/pki';
import { builtinSecretNames, createBuiltinBackend, generateBuiltinCa, loadBuiltinCa } from '../src/index.js';
import type { CaBackend } from '../src/index.js';
import { contextWith, webIdentity } from './backend-context.js';

const backend = { name: 'ca-1', type: 'builtin' as const, conf: {} };

describe('builtin CA generation', () => {
  it("uses Kuma's secret names", () => {
    expect(builtinSecretNames('default', 'ca-1')).toEqual({ cert: 'default.ca-builtin-cert-ca-1', key: 'default.ca-builtin-key-ca-1' });
  });

  it('defaults to an ECDSA P-256 root valid for 10 years, naming the mesh as SPIFFE trust domain', async () => {
    const ca = await generateBuiltinCa('default', backend);
    const parsed = parseCertificate(ca.certPem);
    expect(parsed.isCa).toBe(true);
    expect(parsed.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(parsed.uriSans).toEqual(['spiffe://default']);
    const years = (parsed.notAfter.getTime() - Date.now()) / (365 * 86400_000);
    expect(Math.round(years * 100) / 100).toBe(10);
    expect(verifyKeyMatchesCert(ca.certPem, ca.keyPem)).toBe(true);
  });

  it('honours caCert.RSAbits and caCert.expiration', async () => {
    const ca = await generateBuiltinCa('default', { ...backend, conf: { caCert: { RSAbits: 2048, expiration: '1d' } } });
    const parsed = parseCertificate(ca.certPem);
    expect(parsed.publicKey.asymmetricKeyType).toBe('rsa');
    expect(parsed.publicKey.asymmetricKeyDetails?.modulusLength).toBe(2048);
    expect(Math.round((parsed.notAfter.getTime() - Date.now()) / 1000 / 60)).toBe(24 * 60);
    await expect(generateBuiltinCa('default', { ...backend, conf: { caCert: { expiration: 'ten years' } } })).rejects.toThrow(
      /builtin backend "ca-1": conf.caCert.expiration/,
    );
  });

  it('loads the CA back from its two Secrets, or says it is not there yet', async () => {
    const ca = await generateBuiltinCa('default', backend);
    const names = builtinSecretNames('default', 'ca-1');
    const withSecrets = contextWith(backend, { [names.cert]: ca.certPem, [names.key]: ca.keyPem });
    const get = async (key: Parameters<Parameters<typeof loadBuiltinCa>[0]>[0]) => {
      const data = await withSecrets.readDataSource({ secret: key.name }, 'x').catch(() => undefined);
      if (!data) return undefined;
      return { meta: { ...key, labels: {}, creationTime: '', modificationTime: '', version: 1 }, spec: { data: data.toString('base64') } };
    };
    expect(await loadBuiltinCa(get, 'default', 'ca-1')).toEqual(ca);
    expect(await loadBuiltinCa(get, 'default', 'ca-2')).toBeUndefined();
  });
});

describe('builtin backend issuance', () => {
  let ca: Awaited<ReturnType<typeof generateBuiltinCa>>;
  let be: CaBackend;
  beforeAll(async () => {
    ca = await generateBuiltinCa('default', backend);
    be = createBuiltinBackend(contextWith(backend), ca);
  });

  it('makes a key and a certificate for the identity, valid for the TTL, backdated a minute', async () => {
    const before = Date.now();
    const issued = await be.issue({ identity: webIdentity, ttlSeconds: 3600 });
    const cert = parseCertificate(issued.certChainPem);
    expect(cert.uriSans).toEqual(['spiffe://default/web', 'kuma://kuma.io/service/web', 'kuma://version/v1']);
    expect(cert.isCa).toBe(false);
    expect(cert.serial).toBe(issued.serial);
    expect(issued.notBefore.getTime()).toBe(cert.notBefore.getTime());
    expect(issued.notAfter.getTime()).toBe(cert.notAfter.getTime());
    expect(Math.round((cert.notAfter.getTime() - before) / 1000)).toBeGreaterThanOrEqual(3599);
    expect(Math.round((cert.notAfter.getTime() - before) / 1000)).toBeLessThanOrEqual(3601);
    expect(Math.round((before - cert.notBefore.getTime()) / 1000)).toBeGreaterThanOrEqual(59);
    expect(verifyKeyMatchesCert(issued.certChainPem, issued.keyPem ?? '')).toBe(true);
    expect(isIssuedBy(issued.certChainPem, ca.certPem)).toBe(true);
    expect(await be.roots()).toEqual([ca.certPem]);
    expect((await be.health()).ok).toBe(true);
  });

  it('signs a CSR with the SANs of the identity, never those the CSR asks for', async () => {
    const key = generateP256Key();
    const csrPem = createCsr({ keyPem: key.keyPem, uriSans: ['spiffe://default/admin'], commonName: 'admin' });
    const issued = await be.issue({ identity: webIdentity, ttlSeconds: 600, csrPem });
    expect(issued.keyPem).toBeUndefined();
    const cert = parseCertificate(issued.certChainPem);
    expect(cert.uriSans).toEqual(['spiffe://default/web', 'kuma://kuma.io/service/web', 'kuma://version/v1']);
    expect(cert.commonName).toBeUndefined();
    expect(verifyKeyMatchesCert(issued.certChainPem, key.keyPem)).toBe(true);
    await expect(be.issue({ identity: webIdentity, ttlSeconds: 600, csrPem: csrPem.replace(/A/g, 'B') })).rejects.toThrow();
  });

  it('refuses other meshes and bad TTLs, and never outlives its CA', async () => {
    await expect(be.issue({ identity: { ...webIdentity, mesh: 'other' }, ttlSeconds: 60 })).rejects.toThrow(
      /cannot issue for mesh "other"/,
    );
    await expect(be.issue({ identity: webIdentity, ttlSeconds: 0 })).rejects.toThrow(/ttlSeconds/);
    const caEnd = parseCertificate(ca.certPem).notAfter;
    const issued = await be.issue({ identity: webIdentity, ttlSeconds: 20 * 365 * 86400 });
    expect(issued.notAfter.getTime()).toBe(caEnd.getTime());
    const later = createBuiltinBackend(contextWith(backend), ca, { now: () => new Date(caEnd.getTime() + 1000) });
    expect((await later.health()).reason).toMatch(/expired/);
    await expect(later.issue({ identity: webIdentity, ttlSeconds: 60 })).rejects.toThrow(/expired/);
  });
});

describe('two zones with the same builtin CA', () => {
  let pool: IssuerPool;
  beforeAll(() => {
    pool = createIssuerPool({ workers: 2 });
  });
  afterAll(async () => {
    await pool.close();
  });

  it('issue certificates that authenticate each other in a real mTLS handshake (one zone on a worker pool)', async () => {
    const ca = await generateBuiltinCa('default', backend);
    const zoneA = createBuiltinBackend(contextWith(backend), ca);
    const zoneB = createBuiltinBackend(contextWith(backend), ca, { pool });
    const server = await zoneA.issue({
      identity: { mesh: 'default', name: 'backend-1', tags: { 'kuma.io/service': ['backend'] } },
      ttlSeconds: 600,
    });
    const client = await zoneB.issue({ identity: webIdentity, ttlSeconds: 600 });
    const bundle = (await zoneA.roots()).join('');

    let seen = '';
    const srv = tls.createServer(
      { cert: server.certChainPem, key: server.keyPem ?? '', ca: bundle, requestCert: true, rejectUnauthorized: true },
      (socket) => {
        seen = socket.getPeerCertificate().subjectaltname ?? '';
        socket.end('ok');
      },
    );
    srv.listen(0, '127.0.0.1');
    await once(srv, 'listening');
    try {
      const socket = tls.connect({
        host: '127.0.0.1',
        port: (srv.address() as AddressInfo).port,
        cert: client.certChainPem,
        key: client.keyPem ?? '',
        ca: bundle,
        checkServerIdentity: (_h, cert) =>
          cert.subjectaltname?.includes('URI:spiffe://default/backend') ? undefined : new Error('wrong peer'),
      });
      let received = '';
      socket.on('data', (d: Buffer) => (received += d.toString()));
      socket.on('error', () => {});
      await once(socket, 'close');
      expect(received).toBe('ok');
      expect(seen).toMatch(/^URI:spiffe:\/\/default\/web, /);
    } finally {
      await new Promise((r) => srv.close(r));
      await zoneB.close();
    }
  });
});

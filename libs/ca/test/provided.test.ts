import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLeafSigner, generateCa, generateP256Key, isIssuedBy, parseCertificate } from '@meshca/pki';
import type { CaMaterial } from '@meshca/pki';
import { checkProvidedCa, createProvidedBackend } from '../src/index.js';
import { contextWith, secret, webIdentity } from './backend-context.js';

const PATH = 'mtls.backends[1]';
const provided = (conf: Record<string, unknown>) => ({ name: 'ca-2', type: 'provided' as const, conf });

describe('provided CA checks at apply time', () => {
  let ca: CaMaterial;
  let other: CaMaterial;
  let dir: string;
  beforeAll(() => {
    ca = generateCa({ commonName: 'corp root', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    other = generateCa({ commonName: 'other root', keyType: 'ecdsa-p256', validitySeconds: 86400 });
    dir = mkdtempSync(join(tmpdir(), 'meshca-provided-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a good CA from secrets, files, inline and inlineString', async () => {
    const certFile = join(dir, 'ca.pem');
    writeFileSync(certFile, ca.certPem);
    const confs = [
      { cert: secret('c'), key: secret('k') },
      { cert: { file: certFile }, key: { inline: Buffer.from(ca.keyPem).toString('base64') } },
      { cert: { inlineString: ca.certPem }, key: { inlineString: ca.keyPem } },
    ];
    for (const conf of confs) {
      expect(await checkProvidedCa(contextWith(provided(conf), { c: ca.certPem, k: ca.keyPem }), PATH)).toEqual([]);
    }
  });

  it('names the backend and the field when the key belongs to another certificate', async () => {
    const ctx = contextWith(provided({ cert: secret('c'), key: secret('k') }), { c: ca.certPem, k: other.keyPem });
    expect(await checkProvidedCa(ctx, PATH)).toEqual([
      { field: 'mtls.backends[1].conf.key', message: 'the key of provided backend "ca-2" does not match its certificate' },
    ]);
  });

  it('refuses a leaf certificate, an expired CA and one not yet valid', async () => {
    const signer = createLeafSigner({ caCertPem: ca.certPem, caKeyPem: ca.keyPem });
    const leafKey = generateP256Key();
    const leafPem = signer.sign({
      publicKey: leafKey.spkiDer,
      uriSans: ['spiffe://default/x'],
      notBefore: new Date(),
      notAfter: new Date(Date.now() + 60_000),
    });
    const leafErrors = await checkProvidedCa(
      contextWith(provided({ cert: { inlineString: leafPem }, key: { inlineString: leafKey.keyPem } })),
      PATH,
    );
    expect(leafErrors).toEqual([{ field: `${PATH}.conf.cert`, message: expect.stringMatching(/provided backend "ca-2" is not a CA/) }]);

    const old = generateCa({ commonName: 'old', keyType: 'ecdsa-p256', validitySeconds: 60, notBefore: new Date(Date.now() - 3600_000) });
    const expired = await checkProvidedCa(
      contextWith(provided({ cert: { inlineString: old.certPem }, key: { inlineString: old.keyPem } })),
      PATH,
    );
    expect(expired).toEqual([{ field: `${PATH}.conf.cert`, message: expect.stringMatching(/"ca-2" expired at \d{4}-/) }]);

    const future = generateCa({
      commonName: 'future',
      keyType: 'ecdsa-p256',
      validitySeconds: 86400,
      notBefore: new Date(Date.now() + 3600_000),
    });
    const early = await checkProvidedCa(
      contextWith(provided({ cert: { inlineString: future.certPem }, key: { inlineString: future.keyPem } })),
      PATH,
    );
    expect(early[0]?.message).toMatch(/not valid before/);
  });

  it('reports unparseable material without echoing it, and a missing secret at its field', async () => {
    const junkKey = 'SECRET-KEY-MATERIAL-DO-NOT-LOG';
    const errors = await checkProvidedCa(
      contextWith(provided({ cert: { inlineString: 'not a cert' }, key: { inlineString: junkKey } })),
      PATH,
    );
    expect(errors.map((e) => e.field)).toEqual([`${PATH}.conf.cert`, `${PATH}.conf.key`]);
    expect(errors[0]?.message).toMatch(/"ca-2" is not PEM/);
    expect(errors[1]?.message).toMatch(/"ca-2" is not an unencrypted PEM private key/);
    expect(JSON.stringify(errors)).not.toContain(junkKey);

    const missing = await checkProvidedCa(contextWith(provided({ cert: secret('nope'), key: secret('k') }), { k: ca.keyPem }), PATH);
    expect(missing).toEqual([{ field: `${PATH}.conf.cert.secret`, message: expect.stringMatching(/secret "nope" does not exist/) }]);
  });

  it('issues from the provided CA once the check passes, and refuses to start from bad material', async () => {
    const be = await createProvidedBackend(contextWith(provided({ cert: secret('c'), key: secret('k') }), { c: ca.certPem, k: ca.keyPem }));
    expect(be.type).toBe('provided');
    const issued = await be.issue({ identity: webIdentity, ttlSeconds: 300 });
    expect(isIssuedBy(issued.certChainPem, ca.certPem)).toBe(true);
    expect(parseCertificate(issued.certChainPem).uriSans[0]).toBe('spiffe://default/web');
    expect(await be.roots()).toEqual([ca.certPem]);
    await expect(
      createProvidedBackend(contextWith(provided({ cert: secret('c'), key: secret('k') }), { c: ca.certPem, k: other.keyPem }), {
        path: PATH,
      }),
    ).rejects.toThrow('mtls.backends[1].conf.key: the key of provided backend "ca-2" does not match its certificate');
  });
});

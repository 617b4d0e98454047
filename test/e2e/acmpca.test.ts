// End to end with the acmpca backend: the ACM-PCA-compatible test server over HTTPS (SigV4 checked),
// the acmpca Mesh examples of seeds 004 (Universal and Kubernetes) and 002 (`type: acm`) applied
// through meshctl on a real global (only the ARN, the secrets and the file path pointed at the test
// server), dataplanes in two zones with ACM-issued certificates carrying their SPIFFE URI and
// talking mTLS across zones, and a CA outage that takes no valid certificate away.
// Global and zones reach the test server through MESHCA_ACMPCA_ENDPOINT; 002 names no caCert, so
// they trust the server's CA through NODE_EXTRA_CA_CERTS, as an operator would for a private endpoint.
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseCertificate } from '@meshca/pki';
import {
  applySecrets as applySecretsVia,
  applyYaml,
  certsOf,
  eventually,
  expectCrossZone,
  expectOutageKeepsCertificates,
  expectSignedPath,
  retireServices,
  seedText,
  startMeshEnv,
  startPair,
  type MeshEnv,
  type MeshService,
} from '../src/index.js';
import { startAcmPcaServer, type AcmPcaServer } from '../servers/acmpca/index.js';

let pca: AcmPcaServer;
let env: MeshEnv;
let dir: string;
let arn1: string; // the CA of seed 004
let arn2: string; // the CA of seed 002

/** A seed file's text with edits made through the YAML document, so its comments and layout stay. */
function seed(file: string, edit: (set: (path: (string | number)[], value: unknown) => void) => void): string {
  const doc = parseDocument(seedText(file));
  const backend = [...(doc.has('spec') ? ['spec'] : []), 'mtls', 'backends', 0];
  const block = doc.hasIn([...backend, 'acm']) ? 'acm' : 'conf';
  edit((p, v) => doc.setIn([...backend, block, ...p], v));
  return String(doc);
}

const applySecrets = (secrets: Record<string, string>) => applySecretsVia(env, secrets);
const apply = (yaml: string) => applyYaml(env, yaml);

/** The chain the dataplane holds leads, signature by signature, to the CA's external root. */
function expectChainTo(chainPem: string, rootPem: string): void {
  const root = new X509Certificate(rootPem);
  const chain = certsOf(chainPem).filter((c) => c.fingerprint256 !== root.fingerprint256);
  expect(chain.length).toBeGreaterThanOrEqual(2); // leaf + the subordinate CA
  const path = [...chain, root];
  expectSignedPath(path);
}

/** ACM issued it, with the dataplane's identity: SPIFFE and kuma URIs, no other. */
function expectAcmIdentity(svc: MeshService, backend: string, arn: string, commonName: string | undefined): void {
  const id = svc.handle.current()!;
  expect(id.backend).toBe(backend);
  expectChainTo(id.certChainPem, pca.rootPem(arn)!);
  const leaf = parseCertificate(id.certChainPem);
  expect(leaf.uriSans.sort()).toEqual([`kuma://kuma.io/service/${svc.service}`, svc.spiffeId].sort());
  expect(leaf.commonName).toBe(commonName);
}

const pair = (suffix: string) => startPair(env, suffix);
const crossZone = expectCrossZone;
const retire = (...services: MeshService[]) => retireServices(env, ...services);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'meshca-e2e-acmpca-'));
  pca = await startAcmPcaServer({ https: true, secretAccessKey: 'e2e-secret-access-key' });
  arn1 = await pca.createCa({ commonName: 'meshca e2e CA 004' });
  arn2 = await pca.createCa({ commonName: 'meshca e2e CA 002' });
  const caFile = join(dir, 'acmpca-ca.pem');
  await writeFile(caFile, pca.caCertPem!);
  const awsEnv = { MESHCA_ACMPCA_ENDPOINT: pca.endpoint, NODE_EXTRA_CA_CERTS: caFile, AWS_REGION: pca.region };
  env = await startMeshEnv({ globalEnv: awsEnv, zoneEnv: awsEnv });
  // Secrets live in a mesh: the Mesh exists (without mTLS) before the secrets its backend names.
  await apply('type: Mesh\nname: default\n');
}, 60_000);

afterAll(async () => {
  await env?.stop();
  await pca?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('acmpca backend across two zones', () => {
  let keyFile: string;

  it("refuses seed 004 pointed at an ARN the CA service does not know, with the backend name and AWS's answer", async () => {
    keyFile = join(dir, 'accesss_key.txt');
    await writeFile(keyFile, `${pca.credentials.secretAccessKey}\n`, { mode: 0o600 });
    await applySecrets({ 'sec-1': pca.caCertPem!, 'sec-2': pca.credentials.accessKeyId });
    const unknown = arn1.replace(/[0-9a-f]{12}$/, '000000000000');
    const r = await env.meshctlInput(
      seed('004-acmpca-universal.yaml', (set) => {
        set(['arn'], unknown);
        set(['auth', 'awsCredentials', 'accessKeySecret', 'file'], keyFile);
      }),
      'apply',
      '-f',
      '-',
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('acmpca backend "acmpca-1" could not issue a test certificate');
    expect(r.stderr).toContain('ResourceNotFoundException');
    expect(r.stderr).not.toContain(pca.credentials.secretAccessKey);
    const mesh = JSON.parse((await env.meshctl('get', 'mesh', 'default', '-o', 'json')).stdout) as { mtls?: unknown };
    expect(mesh.mtls).toBeUndefined();
  });

  it('seed 004 (Universal, then Kubernetes): dataplanes in both zones get ACM certificates with their SPIFFE URI and talk mTLS', async () => {
    const issuedBefore = pca.stats().issued;
    for (const file of ['004-acmpca-universal.yaml', '004-acmpca-kubernetes.yaml']) {
      await apply(
        seed(file, (set) => {
          set(['arn'], arn1);
          set(['auth', 'awsCredentials', 'accessKeySecret', 'file'], keyFile);
        }),
      );
    }
    const [web, backend] = await pair('004');
    for (const svc of [web, backend]) expectAcmIdentity(svc, 'acmpca-1', arn1, `${svc.service}.mesh`);
    await crossZone(web, backend);
    // Global's test certificate, then one per dataplane from its own zone; all signed requests with the secrets' key.
    expect(pca.stats().issued - issuedBefore).toBeGreaterThanOrEqual(3);
    expect(pca.stats().accessKeyIds).toEqual([pca.credentials.accessKeyId]);
    await retire(web, backend);
  });

  it('seed 002 (`type: acm`, credentials from two secrets, no caCert): switched to, issued from, mTLS across zones', async () => {
    await applySecrets({ 'aws-access-key': pca.credentials.accessKeyId, 'aws-secret-key': pca.credentials.secretAccessKey });
    for (const file of ['002-acm-universal.yaml', '002-acm-kubernetes.yaml']) {
      await apply(seed(file, (set) => set(['arn'], arn2)));
    }
    const [web, backend] = await pair('002');
    // 002 sets no commonName: the certificate has none, only the URIs.
    for (const svc of [web, backend]) expectAcmIdentity(svc, 'aws-acm-ca', arn2, undefined);
    await crossZone(web, backend);
    await retire(web, backend);
  });

  it('a disabled CA during rotation takes no valid certificate away; the failure shows on global; enabled again, certificates are issued again', async () => {
    // Seed 004 again (acmpca-1) with a 30s dpCert lifetime, so renewal falls inside the outage.
    // Switching away from aws-acm-ca makes the zones re-issue any certificate they issued before the
    // new Mesh reached them, so both end up on the 30s lifetime.
    await apply(
      seed('004-acmpca-universal.yaml', (set) => {
        set(['arn'], arn1);
        set(['auth', 'awsCredentials', 'accessKeySecret', 'file'], keyFile);
      }).replace('expiration: 24h', 'expiration: 30s'),
    );
    const [web, backend] = await pair('outage');
    await eventually(async () => {
      for (const svc of [web, backend]) {
        const id = svc.handle.current()!;
        expect(id.backend).toBe('acmpca-1');
        expect(id.notAfter.getTime() - Date.now()).toBeLessThan(31_000);
      }
    }, 15_000);
    await expectOutageKeepsCertificates(env, web, backend, {
      breakCa: () => pca.setCaStatus(arn1, 'DISABLED'),
      repairCa: () => pca.setCaStatus(arn1, 'ACTIVE'),
      errorText: 'DISABLED',
      reissued: (svc) => expectAcmIdentity(svc, 'acmpca-1', arn1, `${svc.service}.mesh`),
    });
  }, 90_000);
});

// The acmpca Mesh examples of the reference documents (004_* and 002_*, which spells it
// `type: acm`), parsed as `meshctl apply` parses them, with only the ARN and the secrets/files
// pointed at the test server: global's check (checkMeshCas) issues a test certificate through
// each and accepts it, and refuses each broken variant with the backend's name and AWS's answer.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AcmpcaConf, MeshSpec } from '@meshca/api';
import { checkMeshCas, openCaBackend, validationIdentity } from '../src/index.js';
import { closedPort, seedMesh, startAcmPcaServer, startSanStripper, storeWithSecrets, type AcmPcaServer } from './acmpca-helpers.js';
import { parseCertificate } from '@meshca/pki';

const savedEndpoint = process.env.MESHCA_ACMPCA_ENDPOINT;
afterEach(() => {
  if (savedEndpoint === undefined) delete process.env.MESHCA_ACMPCA_ENDPOINT;
  else process.env.MESHCA_ACMPCA_ENDPOINT = savedEndpoint;
});

const confOf = (spec: MeshSpec): AcmpcaConf => spec.mtls!.backends[0]!.conf as AcmpcaConf;

describe('seed 004: acmpca backend with caCert, secret and file credentials, over HTTPS', () => {
  let pca: AcmPcaServer;
  let arn: string;
  let dir: string;
  beforeAll(async () => {
    pca = await startAcmPcaServer({ https: true, deniedAccessKeyIds: ['AKIDDENIED'] });
    arn = await pca.createCa();
    dir = mkdtempSync(join(tmpdir(), 'meshca-acmpca-'));
  });
  afterAll(async () => {
    await pca?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The seed with its ARN and its file pointed at the test server; secrets sec-1 (TLS CA) and sec-2 (key id). */
  async function setup(file: string, o: { arn?: string; accessKey?: string; secretKey?: string } = {}) {
    const spec = seedMesh(file);
    const conf = confOf(spec);
    conf.arn = o.arn ?? arn;
    const keyFile = join(dir, `${file}.secret`);
    writeFileSync(keyFile, `${o.secretKey ?? pca.credentials.secretAccessKey}\n`);
    conf.auth!.awsCredentials.accessKeySecret = { file: keyFile };
    const store = await storeWithSecrets({ 'sec-1': pca.caCertPem!, 'sec-2': o.accessKey ?? pca.credentials.accessKeyId });
    process.env.MESHCA_ACMPCA_ENDPOINT = pca.endpoint;
    return { spec, store };
  }

  it.each(['004-acmpca-universal.yaml', '004-acmpca-kubernetes.yaml'])("%s passes global's test certificate", async (file) => {
    const { spec, store } = await setup(file);
    const before = pca.stats().issued;
    expect(await checkMeshCas({ store, mesh: 'default', spec })).toEqual([]);
    expect(pca.stats().issued).toBe(before + 1);
  });

  it('zones issue from it through openCaBackend: SPIFFE URI, the template common name, 24h', async () => {
    const { spec, store } = await setup('004-acmpca-universal.yaml');
    const ca = await openCaBackend('default', spec.mtls!.backends[0]!, { get: store.get.bind(store) });
    try {
      const identity = { mesh: 'default', name: 'backend-1', tags: { 'kuma.io/service': ['backend'], 'kuma.io/zone': ['zone-1'] } };
      const out = await ca.issue({ identity, ttlSeconds: 24 * 3600 });
      const leaf = parseCertificate(out.certChainPem);
      expect(leaf.uriSans).toEqual(['spiffe://default/backend', 'kuma://kuma.io/service/backend', 'kuma://kuma.io/zone/zone-1']);
      expect(leaf.commonName).toBe('backend.mesh');
      expect(leaf.notAfter.getTime()).toBeGreaterThan(Date.now() + 24 * 3_600_000 - 5 * 60_000);
      expect((await ca.roots()).length).toBe(2);
    } finally {
      await ca.close();
    }
  });

  const refusal = async (file: string, o: Parameters<typeof setup>[1], configure?: () => void) => {
    const { spec, store } = await setup(file, o);
    configure?.();
    const errors = await checkMeshCas({ store, mesh: 'default', spec });
    expect(errors).toHaveLength(1);
    expect(errors[0]!.field).toBe('mtls.backends[0]');
    expect(errors[0]!.message.startsWith('acmpca backend "acmpca-1" could not issue a test certificate: ')).toBe(true);
    return errors[0]!.message;
  };

  it('refuses an unknown ARN', async () => {
    const unknown = arn.replace(/[0-9a-f]{8}-/, '00000000-');
    expect(await refusal('004-acmpca-universal.yaml', { arn: unknown })).toMatch(
      /has no certificate authority \S+ \(ResourceNotFoundException: /,
    );
  });

  it('refuses credentials without access to the CA', async () => {
    expect(await refusal('004-acmpca-universal.yaml', { accessKey: 'AKIDDENIED' })).toMatch(
      /AWS denied DescribeCertificateAuthority on \S+ \(AccessDeniedException: /,
    );
  });

  it('refuses a CA that is not active', async () => {
    const disabled = await pca.createCa();
    pca.setCaStatus(disabled, 'DISABLED');
    expect(await refusal('004-acmpca-universal.yaml', { arn: disabled })).toMatch(/certificate authority \S+ is DISABLED, not ACTIVE/);
  });

  it('refuses bad credentials', async () => {
    expect(await refusal('004-acmpca-universal.yaml', { accessKey: 'AKIDWRONG' })).toMatch(
      /AWS did not accept the credentials \(UnrecognizedClientException: .+\); check conf.auth.awsCredentials/,
    );
  });

  it('refuses an unreachable endpoint', async () => {
    const port = await closedPort();
    const message = await refusal('004-acmpca-universal.yaml', {}, () => {
      process.env.MESHCA_ACMPCA_ENDPOINT = `https://127.0.0.1:${port}`;
    });
    expect(message).toMatch(new RegExp(`cannot reach ACM PCA at https://127\\.0\\.0\\.1:${port} \\(ECONNREFUSED`));
  });

  it('refuses an endpoint whose TLS certificate conf.caCert does not verify', async () => {
    const other = await startAcmPcaServer({ https: true });
    try {
      const message = await refusal('004-acmpca-universal.yaml', {}, () => {
        process.env.MESHCA_ACMPCA_ENDPOINT = other.endpoint;
      });
      expect(message).toMatch(/the TLS certificate of the ACM PCA endpoint \S+ did not verify/);
    } finally {
      await other.stop();
    }
  });

  it('refuses when the access key secret file is missing, naming the field', async () => {
    const { spec, store } = await setup('004-acmpca-universal.yaml');
    confOf(spec).auth!.awsCredentials.accessKeySecret = { file: join(dir, 'missing') };
    const errors = await checkMeshCas({ store, mesh: 'default', spec });
    expect(errors).toEqual([
      {
        field: 'mtls.backends[0]',
        message: expect.stringContaining(`conf.auth.awsCredentials.accessKeySecret.file: cannot read "${join(dir, 'missing')}"`),
      },
    ]);
  });

  it('refuses a referenced secret that does not exist before contacting AWS', async () => {
    const { spec } = await setup('004-acmpca-universal.yaml');
    const store = await storeWithSecrets({ 'sec-2': pca.credentials.accessKeyId });
    const before = pca.stats().requests.DescribeCertificateAuthority ?? 0;
    expect(await checkMeshCas({ store, mesh: 'default', spec })).toEqual([
      { field: 'mtls.backends[0].conf.caCert.secret', message: expect.stringContaining('secret "sec-1" does not exist') },
    ]);
    expect(pca.stats().requests.DescribeCertificateAuthority ?? 0).toBe(before);
  });

  it('skips the test certificate when mtls.skipValidation is set', async () => {
    const { spec, store } = await setup('004-acmpca-universal.yaml', { arn: arn.replace(/[0-9a-f]{8}-/, '00000000-') });
    expect(await checkMeshCas({ store, mesh: 'default', spec, skipTestCertificate: true })).toEqual([]);
  });
});

describe('seed 002: `type: acm` with secret credentials and the default TLS trust', () => {
  let pca: AcmPcaServer;
  let arn: string;
  beforeAll(async () => {
    pca = await startAcmPcaServer();
    arn = await pca.createCa();
  });
  afterAll(() => pca?.stop());

  async function setup(file: string, arnOverride?: string) {
    const spec = seedMesh(file);
    expect(spec.mtls!.backends[0]!.type).toBe('acmpca');
    confOf(spec).arn = arnOverride ?? arn;
    const store = await storeWithSecrets({
      'aws-access-key': pca.credentials.accessKeyId,
      'aws-secret-key': pca.credentials.secretAccessKey,
    });
    process.env.MESHCA_ACMPCA_ENDPOINT = pca.endpoint;
    return { spec, store };
  }

  it.each(['002-acm-universal.yaml', '002-acm-kubernetes.yaml'])("%s passes global's test certificate", async (file) => {
    const { spec, store } = await setup(file);
    expect(await checkMeshCas({ store, mesh: 'default', spec })).toEqual([]);
  });

  it('the verbatim placeholder ARN is refused with what ACM PCA answers', async () => {
    const spec = seedMesh('002-acm-universal.yaml');
    const store = await storeWithSecrets({
      'aws-access-key': pca.credentials.accessKeyId,
      'aws-secret-key': pca.credentials.secretAccessKey,
    });
    process.env.MESHCA_ACMPCA_ENDPOINT = pca.endpoint;
    const errors = await checkMeshCas({ store, mesh: 'default', spec });
    expect(errors).toEqual([
      {
        field: 'mtls.backends[0]',
        message: expect.stringMatching(
          /^acmpca backend "aws-acm-ca" could not issue a test certificate: .*arn:aws:acm-pca:region:account:certificate-authority\/uuid.* \((InvalidArnException|ResourceNotFoundException): /,
        ),
      },
    ]);
  });

  it('refuses a CA that drops the URI SANs, naming the template', async () => {
    const proxy = await startSanStripper(pca.endpoint);
    try {
      const { spec, store } = await setup('002-acm-universal.yaml');
      process.env.MESHCA_ACMPCA_ENDPOINT = proxy.endpoint;
      const errors = await checkMeshCas({ store, mesh: 'default', spec });
      expect(errors).toEqual([
        {
          field: 'mtls.backends[0]',
          message: `acmpca backend "aws-acm-ca" could not issue a test certificate: ACM PCA issued a certificate without the URI SANs spiffe://default/meshca-validation, kuma://kuma.io/service/meshca-validation (template EndEntityCertificate_APIPassthrough/V1); the CA dropped the dataplane identity — the CA or a template policy must allow API-passthrough subject alternative names`,
        },
      ]);
      expect(validationIdentity('default').tags['kuma.io/service']).toEqual(['meshca-validation']);
    } finally {
      await proxy.stop();
    }
  });
});

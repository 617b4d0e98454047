import { randomUUID } from 'node:crypto';
import { x509 } from './x509.js';
import { AwsError, invalidArgs, invalidState, notFound, validation } from './errors.js';
import { generateCaKeys, keySpec, signer, signingSpec } from './keys.js';
import { blob, joinPem, parseCertificates, pemOf } from './pem.js';
import { epochSeconds, type CaRecord, type CaStatus, type ServerState } from './state.js';
import { subjectToName } from './subject.js';
import type { EcdsaParams, CryptoKey } from './keys.js';

type Input = Record<string, unknown>;

const ARN_RE = /^arn:aws[a-z-]*:acm-pca:[a-z0-9-]+:\d{12}:certificate-authority\/[0-9a-f-]{36}$/;

export function requireCa(state: ServerState, input: Input, member = 'CertificateAuthorityArn'): CaRecord {
  const arn = input[member];
  if (typeof arn !== 'string' || arn === '') {
    throw validation(member.charAt(0).toLowerCase() + member.slice(1), arn ?? 'null', 'Member must not be null');
  }
  if (!ARN_RE.test(arn)) throw new AwsError('InvalidArnException', `The ARN ${arn} is not valid.`);
  const ca = state.cas.get(arn);
  if (!ca || ca.status === 'DELETED') throw notFound(arn);
  return ca;
}

function setStatus(state: ServerState, ca: CaRecord, status: CaStatus): void {
  ca.status = status;
  ca.lastStateChangeAt = state.now();
}

export async function createCertificateAuthority(state: ServerState, input: Input): Promise<Input> {
  const type = input.CertificateAuthorityType;
  if (type !== 'ROOT' && type !== 'SUBORDINATE') {
    throw validation('certificateAuthorityType', type, 'Member must satisfy enum value set: [ROOT, SUBORDINATE]');
  }
  const config = input.CertificateAuthorityConfiguration as Input | undefined;
  if (!config) throw validation('certificateAuthorityConfiguration', 'null', 'Member must not be null');
  const key = keySpec('certificateAuthorityConfiguration.keyAlgorithm', config.KeyAlgorithm);
  const signing = signingSpec('certificateAuthorityConfiguration.signingAlgorithm', config.SigningAlgorithm);
  if (signing.family !== key.family) {
    throw invalidArgs(`Signing algorithm ${String(config.SigningAlgorithm)} cannot be used with key type ${String(config.KeyAlgorithm)}.`);
  }
  const subject = (config.Subject ?? {}) as Record<string, unknown>;
  const name = subjectToName(subject);
  if (name.length === 0) throw invalidArgs('The certificate authority subject must contain at least one attribute.');

  const keys = await generateCaKeys(key);
  const { key: privateKey, algorithm } = await signer(keys, signing.hash);
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name,
    keys: { publicKey: keys.publicKey, privateKey },
    signingAlgorithm: { ...algorithm, hash: signing.hash } as EcdsaParams,
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  const arn = `arn:aws:acm-pca:${state.region}:${state.account}:certificate-authority/${randomUUID()}`;
  state.cas.set(arn, {
    arn,
    type,
    status: 'PENDING_CERTIFICATE',
    keyAlgorithm: String(config.KeyAlgorithm),
    signingAlgorithm: String(config.SigningAlgorithm),
    subject,
    keys,
    csrPem: csr.toString('pem'),
    createdAt: state.now(),
  });
  return { CertificateAuthorityArn: arn };
}

export function getCertificateAuthorityCsr(state: ServerState, input: Input): Input {
  const ca = requireCa(state, input);
  return { Csr: ca.csrPem };
}

async function samePublicKey(a: CryptoKey, cert: x509.X509Certificate): Promise<boolean> {
  const mine = Buffer.from(await x509.cryptoProvider.get().subtle.exportKey('spki', a));
  return mine.equals(Buffer.from(cert.publicKey.rawData));
}

export async function importCertificateAuthorityCertificate(state: ServerState, input: Input): Promise<Input> {
  const ca = requireCa(state, input);
  if (ca.status !== 'PENDING_CERTIFICATE' && ca.status !== 'ACTIVE' && ca.status !== 'DISABLED') {
    throw invalidState(`The certificate authority ${ca.arn} is in state ${ca.status} and cannot import a certificate.`);
  }
  const certBytes = blob(input.Certificate);
  if (!certBytes || certBytes.length === 0) throw validation('certificate', 'null', 'Member must not be null');
  let cert: x509.X509Certificate;
  let chain: x509.X509Certificate[];
  try {
    const parsed = parseCertificates(certBytes);
    if (parsed.length !== 1) throw new Error('expected one certificate');
    cert = parsed[0]!;
    chain = parseCertificates(blob(input.CertificateChain) ?? Buffer.alloc(0));
  } catch {
    throw new AwsError(
      'MalformedCertificateException',
      'The certificate or certificate chain is not a valid PEM-encoded X.509 certificate.',
    );
  }
  if (!(await samePublicKey(ca.keys.publicKey, cert))) {
    throw new AwsError(
      'CertificateMismatchException',
      'The certificate public key does not match the certificate authority key in its CSR.',
    );
  }
  if (ca.type === 'SUBORDINATE') {
    const parent = chain[0];
    if (!parent) throw new AwsError('InvalidRequestException', 'A certificate chain is required to import a subordinate CA certificate.');
    if (!(await cert.verify({ publicKey: parent.publicKey, signatureOnly: true }))) {
      throw new AwsError('CertificateMismatchException', 'The certificate is not signed by the first certificate of the chain.');
    }
  } else if (!(await cert.verify({ signatureOnly: true }))) {
    throw new AwsError('CertificateMismatchException', 'A root CA certificate must be self-signed by the CA key.');
  }
  ca.certificate = cert;
  ca.chainPem = chain.length ? joinPem(chain.map(pemOf)) : undefined;
  if (ca.status === 'PENDING_CERTIFICATE') setStatus(state, ca, 'ACTIVE');
  return {};
}

export function describeCertificateAuthority(state: ServerState, input: Input): Input {
  const ca = requireCa(state, input);
  const out: Input = {
    Arn: ca.arn,
    OwnerAccount: state.account,
    CreatedAt: epochSeconds(ca.createdAt),
    Type: ca.type,
    Status: ca.status,
    CertificateAuthorityConfiguration: { KeyAlgorithm: ca.keyAlgorithm, SigningAlgorithm: ca.signingAlgorithm, Subject: ca.subject },
    RevocationConfiguration: { CrlConfiguration: { Enabled: false } },
    KeyStorageSecurityStandard: 'FIPS_140_2_LEVEL_3_OR_HIGHER',
    UsageMode: 'GENERAL_PURPOSE',
  };
  if (ca.lastStateChangeAt !== undefined) out.LastStateChangeAt = epochSeconds(ca.lastStateChangeAt);
  if (ca.certificate) {
    out.Serial = ca.certificate.serialNumber;
    out.NotBefore = epochSeconds(ca.certificate.notBefore.getTime());
    out.NotAfter = epochSeconds(ca.certificate.notAfter.getTime());
  }
  return { CertificateAuthority: out };
}

export function updateCertificateAuthority(state: ServerState, input: Input): Input {
  const ca = requireCa(state, input);
  const status = input.Status;
  if (status === undefined) return {};
  if (status !== 'ACTIVE' && status !== 'DISABLED') {
    throw validation('status', status, 'Member must satisfy enum value set: [ACTIVE, DISABLED]');
  }
  if (ca.status !== 'ACTIVE' && ca.status !== 'DISABLED') {
    throw invalidState(`The certificate authority ${ca.arn} is in state ${ca.status} and its status cannot be changed to ${status}.`);
  }
  setStatus(state, ca, status);
  return {};
}

export function getCertificateAuthorityCertificate(state: ServerState, input: Input): Input {
  const ca = requireCa(state, input);
  if (!ca.certificate || (ca.status !== 'ACTIVE' && ca.status !== 'DISABLED' && ca.status !== 'EXPIRED')) {
    throw invalidState(`The certificate authority ${ca.arn} is in state ${ca.status} and has no certificate to return.`);
  }
  const out: Input = { Certificate: pemOf(ca.certificate) };
  if (ca.chainPem) out.CertificateChain = ca.chainPem;
  return out;
}

/** Test hook: the state change UpdateCertificateAuthority cannot make (e.g. EXPIRED). */
export function forceStatus(state: ServerState, arn: string, status: CaStatus): void {
  const ca = state.cas.get(arn);
  if (!ca) throw new Error(`unknown CA ${arn}`);
  setStatus(state, ca, status);
}

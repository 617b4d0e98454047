import { randomBytes } from 'node:crypto';
import { x509 } from './x509.js';
import { requireCa } from './ca-ops.js';
import { AwsError, invalidArgs, invalidState, notFound, validation } from './errors.js';
import { buildExtensions } from './extensions.js';
import { checkSigningMatchesKey, signer } from './keys.js';
import { blob, joinPem, parseCsr, pemOf } from './pem.js';
import type { ServerState } from './state.js';
import { subjectToName } from './subject.js';
import { resolveTemplate } from './templates.js';
import { notAfterFrom, notBeforeFrom } from './validity.js';
import type { EcdsaParams } from './keys.js';

type Input = Record<string, unknown>;

const IDEMPOTENCY_WINDOW_MS = 5 * 60_000;

async function readCsr(input: Input): Promise<x509.Pkcs10CertificateRequest> {
  const bytes = blob(input.Csr);
  if (!bytes || bytes.length === 0) throw validation('csr', 'null', 'Member must not be null');
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = parseCsr(bytes);
  } catch {
    throw new AwsError('MalformedCSRException', 'The certificate signing request is not a valid PKCS#10 request.');
  }
  if (!(await csr.verify())) throw new AwsError('MalformedCSRException', 'The signature of the certificate signing request is invalid.');
  return csr;
}

export async function issueCertificate(state: ServerState, input: Input): Promise<Input> {
  const ca = requireCa(state, input);
  if (input.SigningAlgorithm === undefined) throw validation('signingAlgorithm', 'null', 'Member must not be null');
  const signing = checkSigningMatchesKey(String(input.SigningAlgorithm), ca.keyAlgorithm);
  const template = resolveTemplate(input.TemplateArn);
  const issuedAt = new Date(state.now());
  const notAfter = notAfterFrom(input.Validity, issuedAt);
  const notBefore = notBeforeFrom(input.ValidityNotBefore, issuedAt);
  const csr = await readCsr(input);
  if (ca.status !== 'ACTIVE' || !ca.certificate) {
    throw invalidState(`The certificate authority ${ca.arn} is in state ${ca.status}; it must be ACTIVE to issue certificates.`);
  }
  if (notAfter.getTime() <= issuedAt.getTime()) throw invalidArgs('The certificate validity must end in the future.');
  if (notAfter.getTime() > ca.certificate.notAfter.getTime()) {
    throw invalidArgs(
      `The certificate validity end ${notAfter.toISOString()} exceeds the validity of the CA certificate (${ca.certificate.notAfter.toISOString()}).`,
    );
  }

  const token = typeof input.IdempotencyToken === 'string' ? `${ca.arn}\n${input.IdempotencyToken}` : undefined;
  const previous = token ? state.idempotency.get(token) : undefined;
  if (previous && previous.until > issuedAt.getTime()) return { CertificateArn: previous.arn };

  const apiPassthrough = input.ApiPassthrough as Input | undefined;
  const apiSubject = template.apiPassthrough ? subjectToName(apiPassthrough?.Subject as Input | undefined) : [];
  const extensions = await buildExtensions({ template, csr, apiPassthrough, caCertificate: ca.certificate });
  const hasSan = extensions.some((e) => e.type === '2.5.29.17');
  if (apiSubject.length === 0 && csr.subjectName.toJSON().length === 0 && !hasSan) {
    throw new AwsError('MalformedCSRException', 'A CSR must provide either a subject name or a subject alternative name.');
  }

  const serial = randomBytes(16);
  serial[0] = serial[0]! & 0x7f; // positive INTEGER
  const { key, algorithm } = await signer(ca.keys, signing.hash);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial.toString('hex'),
    subject: apiSubject.length ? apiSubject : csr.subjectName,
    issuer: ca.certificate.subjectName,
    notBefore,
    notAfter,
    publicKey: csr.publicKey,
    signingKey: key,
    signingAlgorithm: { ...algorithm, hash: signing.hash } as EcdsaParams,
    extensions,
  });
  const arn = `${ca.arn}/certificate/${BigInt(`0x${serial.toString('hex')}`).toString(16)}`;
  state.certs.set(arn, {
    arn,
    caArn: ca.arn,
    pem: pemOf(cert),
    chainPem: joinPem([pemOf(ca.certificate), ca.chainPem ?? '']),
    readyAt: issuedAt.getTime() + state.issueDelayMs,
  });
  if (token) state.idempotency.set(token, { arn, until: issuedAt.getTime() + IDEMPOTENCY_WINDOW_MS });
  return { CertificateArn: arn };
}

export function getCertificate(state: ServerState, input: Input): Input {
  const ca = requireCa(state, input);
  const arn = input.CertificateArn;
  if (typeof arn !== 'string' || arn === '') throw validation('certificateArn', 'null', 'Member must not be null');
  const cert = state.certs.get(arn);
  if (!cert || cert.caArn !== ca.arn) throw notFound(arn);
  if (state.now() < cert.readyAt) {
    throw new AwsError('RequestInProgressException', `The request to issue certificate ${arn} is still in progress.`);
  }
  return { Certificate: cert.pem, CertificateChain: cert.chainPem };
}

import { Agent } from 'node:https';
import { webcrypto } from 'node:crypto';
import { ACMPCAClient, GetCertificateCommand, RequestInProgressException } from '@aws-sdk/client-acm-pca';
import { x509 } from '../servers/acmpca/x509.js';

export interface ClientOptions {
  endpoint: string;
  region?: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  caCertPem?: string | undefined;
  maxAttempts?: number;
}

export function makeClient(o: ClientOptions): ACMPCAClient {
  return new ACMPCAClient({
    endpoint: o.endpoint,
    region: o.region ?? 'us-east-1',
    credentials: o.credentials,
    maxAttempts: o.maxAttempts ?? 1,
    ...(o.caCertPem ? { requestHandler: { httpsAgent: new Agent({ ca: o.caCertPem }) } } : {}),
  });
}

export interface LeafCsr {
  csrPem: string;
  publicKeySpki: Buffer;
}

/** A dataplane-style CSR: EC P-256 key, optional CN, URI SANs, optional extra extensions. */
export async function makeLeafCsr(o: { commonName?: string; uris?: string[]; extensions?: x509.Extension[] } = {}): Promise<LeafCsr> {
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as never;
  const extensions = [...(o.extensions ?? [])];
  if (o.uris?.length) extensions.push(new x509.SubjectAlternativeNameExtension(o.uris.map((value) => ({ type: 'url' as const, value }))));
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: o.commonName ? [{ '2.5.4.3': [o.commonName] }] : [],
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' } as never,
    extensions,
  });
  return { csrPem: csr.toString('pem'), publicKeySpki: Buffer.from(csr.publicKey.rawData) };
}

/** GetCertificate until it stops answering RequestInProgressException. */
export async function pollCertificate(
  client: ACMPCAClient,
  caArn: string,
  certArn: string,
  opts: { attempts?: number; delayMs?: number } = {},
): Promise<{ certificate: string; chain: string; inProgressAnswers: number }> {
  let inProgressAnswers = 0;
  for (let i = 0; i < (opts.attempts ?? 100); i++) {
    try {
      const out = await client.send(new GetCertificateCommand({ CertificateAuthorityArn: caArn, CertificateArn: certArn }));
      return { certificate: out.Certificate ?? '', chain: out.CertificateChain ?? '', inProgressAnswers };
    } catch (err) {
      if (!(err instanceof RequestInProgressException)) throw err;
      inProgressAnswers += 1;
      await new Promise((r) => setTimeout(r, opts.delayMs ?? 50));
    }
  }
  throw new Error(`certificate ${certArn} still in progress`);
}

export function splitPem(pem: string): x509.X509Certificate[] {
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((b) => new x509.X509Certificate(b));
}

export function uriSans(cert: x509.X509Certificate): string[] {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  return san ? san.names.items.filter((n) => n.type === 'url').map((n) => n.value) : [];
}

/** Catches the SDK's error and returns its type name (e.g. ResourceNotFoundException). */
export async function errorName(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as Error).name;
  }
  return 'no error';
}

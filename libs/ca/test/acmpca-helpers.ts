// Shared pieces of the acmpca backend tests: a backend context over a memory store, the seed
// Meshes rewritten to point at a test peer, and a proxy that makes a CA drop the identity.
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseDocuments, type MeshSpec, type MtlsBackend } from '@meshca/api';
import { createMemoryStore, type ResourceStore } from '@meshca/store';
import { createCsr, generateP256Key } from '@meshca/pki';
import { seedText } from '@meshca/test/fixtures';
import { createDataSourceReader, type BackendContext } from '../src/index.js';

export { startAcmPcaServer, type AcmPcaServer } from '../../../test/servers/acmpca/index.js';

/** A memory store holding the given mesh Secrets (name -> text). */
export async function storeWithSecrets(secrets: Record<string, string>, mesh = 'default'): Promise<ResourceStore> {
  const store = createMemoryStore();
  await store.create({ meta: { type: 'Mesh', name: mesh }, spec: {} });
  for (const [name, text] of Object.entries(secrets)) {
    await store.create({ meta: { type: 'Secret', mesh, name }, spec: { data: Buffer.from(text).toString('base64') } });
  }
  return store;
}

export function acmpcaContext(
  store: ResourceStore,
  conf: Record<string, unknown>,
  extra: Partial<MtlsBackend> = {},
  mesh = 'default',
): BackendContext {
  const backend = { name: 'acmpca-1', type: 'acmpca', conf, ...extra } as MtlsBackend;
  return { mesh, backend, readDataSource: createDataSourceReader(store.get.bind(store), mesh) };
}

/** The Mesh of a seed fixture, parsed the way `meshctl apply` parses it. */
export function seedMesh(file: string): MeshSpec {
  const [doc] = parseDocuments(seedText(file));
  if (!doc) throw new Error(`no document in ${file}`);
  return structuredClone(doc.spec) as MeshSpec;
}

/** A proxy in front of an ACM PCA peer, for what no CA does on request. */
export interface PeerProxy {
  endpoint: string;
  stop(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface ProxyBehaviour {
  /** Rewrites the JSON input of IssueCertificate before it reaches the CA. */
  rewriteIssue?: (input: Record<string, unknown>) => void;
  /** Forwards this many IssueCertificate calls to the CA, then cuts the connection instead of answering. */
  dropIssueAnswers?: number;
}

async function startProxy(target: string, behaviour: ProxyBehaviour): Promise<PeerProxy> {
  const url = new URL(target);
  let toDrop = behaviour.dropIssueAnswers ?? 0;
  const server: Server = createServer((req, res) => {
    void (async () => {
      let payload = await body(req);
      const isIssue = String(req.headers['x-amz-target'] ?? '').endsWith('.IssueCertificate');
      if (isIssue && behaviour.rewriteIssue) {
        const input = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
        behaviour.rewriteIssue(input);
        payload = Buffer.from(JSON.stringify(input));
      }
      const drop = isIssue && toDrop > 0;
      if (drop) toDrop -= 1;
      const headers = { ...req.headers, host: url.host, 'content-length': String(payload.length) };
      const out = httpRequest({ host: url.hostname, port: url.port, method: req.method, path: req.url, headers }, (answer) => {
        if (drop) {
          answer.resume();
          answer.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(payload);
    })();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/**
 * IssueCertificate loses its ApiPassthrough and its CSR is swapped for one without SANs (the test
 * peers do not check signatures unless told to): the CA answers as one that ignores the
 * passthrough and the requested identity would.
 */
export function startSanStripper(target: string): Promise<PeerProxy> {
  return startProxy(target, {
    rewriteIssue(input) {
      delete input.ApiPassthrough;
      const key = generateP256Key();
      input.Csr = Buffer.from(createCsr({ keyPem: key.keyPem, uriSans: [], commonName: 'stripped' })).toString('base64');
    },
  });
}

/** The CA issues, but the answer to the first `count` IssueCertificate calls is lost on the way back. */
export function startAnswerDropper(target: string, count = 1): Promise<PeerProxy> {
  return startProxy(target, { dropIssueAnswers: count });
}

/** A TCP port nothing listens on. */
export async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export const webIdentity = { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'], version: ['v1'] } };

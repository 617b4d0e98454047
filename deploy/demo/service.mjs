#!/usr/bin/env node
// The demo's mesh service: a tiny HTTPS server and client that knows nothing of meshca except the
// three files meshca-dp writes (cert.pem, key.pem, bundle.pem) and the SIGHUP it sends after each
// rotation. Every request, in both directions, is mutual TLS: the chain must verify against the
// mesh bundle and the peer must present the expected SPIFFE ID.
//
//   node deploy/demo/service.mjs --zone zone-1 --service web --dir .meshca/dp/web-1 --port 5683 \
//     --peer backend@zone-2=https://127.0.0.1:5693[=spiffe://ID] [--accept spiffe://PREFIX]... [--mesh default] [--interval 1500]
//
// A peer's expected SPIFFE ID is spiffe://<mesh>/<service> (Mesh.mtls) unless given; callers are
// accepted when their ID starts with spiffe://<mesh>/ or one of the --accept prefixes (MeshIdentity
// trust domains).
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { parseArgs } from 'node:util';

// First of all: SIGHUP's default action ends the process, and the agent may signal before we are ready.
process.on('SIGHUP', () => void reload());

const { values: args } = parseArgs({
  options: {
    zone: { type: 'string' },
    service: { type: 'string' },
    mesh: { type: 'string', default: 'default' },
    dir: { type: 'string' },
    port: { type: 'string' },
    // Loopback for the one-machine demo; 0.0.0.0 when peers call from other hosts.
    listen: { type: 'string', default: '127.0.0.1' },
    peer: { type: 'string', multiple: true, default: [] },
    accept: { type: 'string', multiple: true, default: [] },
    interval: { type: 'string', default: '1500' },
  },
});
for (const required of ['zone', 'service', 'dir', 'port']) {
  if (args[required] === undefined) {
    console.error(`service.mjs: --${required} is required`);
    process.exit(2);
  }
}
const me = `[${args.zone} ${args.service}]`;
const say = (line) => console.log(`${me} ${line}`);
const mesh = args.mesh;
const accepted = [`spiffe://${mesh}/`, ...args.accept];
const inMesh = (id) => accepted.some((prefix) => id.startsWith(prefix));

// peer "backend@zone-2=https://127.0.0.1:5693": call it, and require spiffe://<mesh>/backend from it.
const peers = args.peer.map((spec) => {
  const [label, url, id] = spec.split('=');
  const service = label.split('@')[0];
  return { label, url, spiffeId: id ?? `spiffe://${mesh}/${service}`, okBefore: false };
});

/** @type {{ cert: string, key: string, ca: string, serial: string, notAfter: Date } | undefined} */
let identity;
let agent;
let server;

function readIdentity() {
  const read = (f) => readFileSync(join(args.dir, f), 'utf8');
  const files = { key: read('key.pem'), cert: read('cert.pem'), ca: read('bundle.pem') };
  // Throws while the files are half-rotated (new key, old cert) or absent; the caller retries.
  createSecureContext(files);
  const leaf = new X509Certificate(files.cert);
  return { ...files, serial: leaf.serialNumber.toLowerCase(), notAfter: new Date(leaf.validTo) };
}

async function reload() {
  // Before the first load the start-up loop below polls for the files.
  if (!server) return;
  let next;
  for (let attempt = 0; ; attempt++) {
    try {
      next = readIdentity();
      break;
    } catch (err) {
      if (attempt === 50) {
        say(`cannot load ${args.dir}/{cert,key,bundle}.pem: ${err.message}`);
        return;
      }
      await sleep(100);
    }
  }
  if (identity && next.serial === identity.serial && next.ca === identity.ca) return;
  const first = identity === undefined;
  const what = first ? 'certificate loaded' : next.serial === identity.serial ? 'trust bundle updated' : 'certificate rotated';
  identity = next;
  // A fresh client agent per identity (no keep-alive), and new server connections use the new context.
  agent = newAgent(identity);
  server?.setSecureContext({ cert: identity.cert, key: identity.key, ca: identity.ca });
  say(
    `${what}: ${spiffeIds(new X509Certificate(identity.cert)).join(', ')}, serial ${short(identity.serial)}, expires in ${until(identity.notAfter)}`,
  );
}

function newAgent(id) {
  // No session resumption: every call is a full handshake, so every call shows (and checks) the
  // peer's current certificate — Node skips checkServerIdentity on resumed sessions.
  return new Agent({ cert: id.cert, key: id.key, ca: id.ca, keepAlive: false, maxCachedSessions: 0 });
}

function spiffeIds(cert) {
  return String(cert?.subjectaltname ?? cert?.subjectAltName ?? '')
    .split(/,\s*/)
    .filter((s) => s.startsWith('URI:spiffe://'))
    .map((s) => s.slice(4));
}

function call(peer) {
  return new Promise((resolve, reject) => {
    let cert;
    const req = request(
      `${peer.url}/`,
      {
        agent,
        // The SPIFFE ID replaces the hostname check; the chain is verified against the bundle by TLS.
        checkServerIdentity: (_host, presented) => {
          cert = presented;
          const ids = spiffeIds(presented);
          return ids.includes(peer.spiffeId)
            ? undefined
            : new Error(`peer presented ${ids.join(', ') || 'no SPIFFE ID'}, expected ${peer.spiffeId}`);
        },
        timeout: 5000,
      },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          if (res.statusCode !== 200) return reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`));
          resolve({
            body: body.trim(),
            peerId: spiffeIds(cert).join(','),
            serial: cert.serialNumber.toLowerCase(),
            notAfter: new Date(cert.valid_to),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out after 5s')));
    req.on('error', reject);
    req.end();
  });
}

async function loop() {
  for (;;) {
    await sleep(Number(args.interval));
    for (const peer of peers) {
      try {
        const r = await call(peer);
        peer.okBefore = true;
        say(`-> ${r.body} ok (peer ${r.peerId}, cert serial ${short(r.serial)}, expires in ${until(r.notAfter)})`);
      } catch (err) {
        const notUpYet = !peer.okBefore && err.code === 'ECONNREFUSED';
        say(notUpYet ? `-> ${peer.label}: not listening yet` : `-> ${peer.label} FAILED: ${err.message}`);
      }
    }
  }
}

const short = (serial) => `${serial.slice(0, 8)}..`;
function until(date) {
  let s = Math.max(0, Math.round((date.getTime() - Date.now()) / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s).padStart(2, '0')}s` : `${s}s`;
}
function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

say(`waiting for ${args.dir}/{cert,key,bundle}.pem from meshca-dp`);
while (identity === undefined) {
  try {
    identity = readIdentity();
  } catch {
    await sleep(200);
  }
}
agent = newAgent(identity);
say(
  `certificate loaded: ${spiffeIds(new X509Certificate(identity.cert)).join(', ')}, serial ${short(identity.serial)}, expires in ${until(identity.notAfter)}`,
);
server = createServer(
  { cert: identity.cert, key: identity.key, ca: identity.ca, requestCert: true, rejectUnauthorized: true },
  (req, res) => {
    const ids = spiffeIds(req.socket.getPeerCertificate());
    if (!ids.some(inMesh)) {
      res.writeHead(403).end(`client presented ${ids.join(', ') || 'no SPIFFE ID'}; only spiffe://${mesh}/* may call\n`);
      return;
    }
    res.end(`${args.service}@${args.zone}\n`);
  },
);
server.listen(Number(args.port), args.listen, () => say(`serving mTLS on https://${args.listen}:${args.port}`));
server.on('error', (err) => {
  say(`cannot listen: ${err.message}`);
  process.exit(1);
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
void loop();

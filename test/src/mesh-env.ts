// A whole deployment for end-to-end tests: a real meshca-global, real meshca-zone processes, and
// mesh services in this process that get their identity from their zone over the real stream and
// call each other over real mTLS.
import { readFile } from 'node:fs/promises';
import { request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { connectIdentity, createMtlsServer, mtlsAgent, type IdentityHandle } from '@meshca/dp-agent';
import { createClient, type ApiClient } from '@meshca/ctl';
import { configureMeshctl, runBin, type CommandResult } from './binaries.js';
import { FAST_GLOBAL_ARGS, startGlobalProcess, syncCaFileOf, syncUrlOf, type GlobalProcess } from './global-process.js';
import { startZoneProcess, writeTokenFile, type ZoneProcess } from './zone-process.js';

export interface MeshEnvOptions {
  zones?: string[];
  globalStore?: string;
  zoneStores?: Record<string, string>;
  globalArgs?: string[];
  zoneArgs?: string[];
  /** Environment for the zone processes (e.g. an ACM PCA endpoint override). */
  zoneEnv?: Record<string, string>;
  /** Environment for the global process (e.g. the same ACM PCA endpoint override). */
  globalEnv?: Record<string, string>;
  /** More processes of a zone on its (Redis) store, sharing its data dir: replicas, one of which leads. */
  zoneReplicas?: Record<string, number>;
}

export interface MeshService {
  zone: string;
  mesh: string;
  name: string;
  service: string;
  spiffeId: string;
  handle: IdentityHandle;
  server: Server;
  url: string;
  /** One mTLS request to another service; resolves with its answer ("<service>@<zone>"). */
  call(target: MeshService): Promise<string>;
  close(): Promise<void>;
}

export interface MeshEnv {
  global: GlobalProcess;
  /** The first process of each zone. */
  zones: Record<string, ZoneProcess>;
  /** Every process of each zone (one unless zoneReplicas); services dial all of them. */
  replicas: Record<string, ZoneProcess[]>;
  /** Admin client of global's API. */
  admin: ApiClient;
  meshctl(...args: string[]): Promise<CommandResult>;
  /** meshctl with standard input. */
  meshctlInput(input: string, ...args: string[]): Promise<CommandResult>;
  dataplaneToken(opts: {
    mesh: string;
    name: string;
    tags?: Record<string, string>;
    workload?: string;
    validFor?: string;
  }): Promise<string>;
  startService(
    zone: string,
    opts: {
      mesh?: string;
      name: string;
      service: string;
      csr?: boolean;
      token?: string;
      /** The Dataplane's labels (MeshIdentity selectors and templates read them). */
      labels?: Record<string, string>;
      /** The SPIFFE IDs it accepts from peers (default: the mesh's Mesh.mtls IDs, spiffe://<mesh>/...). */
      allow?: (spiffeId: string) => boolean;
    },
  ): Promise<MeshService>;
  /** One more replica of `zone` (its store and data dir), added to `replicas`. */
  addZoneReplica(zone: string): Promise<ZoneProcess>;
  /** Starts a zone process again (after stopping it), on a fresh API port, same data dir and token. */
  restartZone(zone: string): Promise<ZoneProcess>;
  /**
   * Stops global and starts it again with the same data dir, store argument and ports (on the
   * memory store: empty); `env.global` is the new process afterwards.
   */
  restartGlobal(): Promise<GlobalProcess>;
  stop(): Promise<void>;
}

export async function startMeshEnv(opts: MeshEnvOptions = {}): Promise<MeshEnv> {
  const launchGlobal = (again?: GlobalProcess) =>
    startGlobalProcess({
      ...(opts.globalStore === undefined ? {} : { store: opts.globalStore }),
      ...(opts.globalEnv === undefined ? {} : { env: opts.globalEnv }),
      ...(again === undefined ? {} : { dataDir: again.dataDir }),
      extraArgs: [
        ...FAST_GLOBAL_ARGS,
        '--sync-port',
        '0',
        ...(opts.globalArgs ?? []),
        // Restarted on the same ports, so zones and clients find it where it was.
        ...(again === undefined ? [] : ['--api-port', new URL(again.apiUrl).port, '--sync-port', new URL(syncUrlOf(again)).port]),
      ],
    });
  const global = await launchGlobal();
  const admin = await createClient({ name: 'g', address: global.apiUrl, tokenFile: global.tokenFile, caCertFile: global.caFile });
  const ctlEnv = await configureMeshctl(global);

  const text = (path: string, body: unknown) => admin.callText('POST', path, body);
  const zones: Record<string, ZoneProcess> = {};
  const replicas: Record<string, ZoneProcess[]> = {};
  const tokenFiles: Record<string, string> = {};
  const zoneApis: Record<string, string> = {};
  const services: MeshService[] = [];
  const startZone = async (zone: string) => {
    const proc = await startZoneProcessWithEnv(zone);
    zones[zone] = proc;
    zoneApis[zone] = proc.apiUrl;
    replicas[zone] = [proc];
    // Replicas after the first: its data dir (admin token, API certificate) and its store.
    for (let i = 1; i < (opts.zoneReplicas?.[zone] ?? 1); i++) replicas[zone].push(await startZoneProcessWithEnv(zone, proc.dataDir));
    return proc;
  };
  const startZoneProcessWithEnv = async (zone: string, sharedDataDir?: string) => {
    const previous = sharedDataDir === undefined ? zones[zone] : undefined;
    // A restarted zone comes back on its old API port, so its dataplanes find it again.
    const samePort = previous === undefined ? [] : ['--api-port', new URL(previous.apiUrl).port];
    return startZoneProcess({
      zone,
      global: syncUrlOf(global),
      globalCaFile: syncCaFileOf(global),
      zoneTokenFile: tokenFiles[zone]!,
      ...(opts.zoneStores?.[zone] === undefined ? {} : { store: opts.zoneStores[zone] }),
      ...(previous === undefined ? {} : { dataDir: previous.dataDir }),
      ...(sharedDataDir === undefined ? {} : { dataDir: sharedDataDir }),
      ...(opts.zoneEnv === undefined ? {} : { env: opts.zoneEnv }),
      extraArgs: [...(opts.zoneArgs ?? []), ...samePort],
    });
  };
  for (const zone of opts.zones ?? ['zone-1', 'zone-2']) {
    tokenFiles[zone] = await writeTokenFile(await text('/tokens/zone', { zone, validFor: '2h' }));
  }
  await Promise.all((opts.zones ?? ['zone-1', 'zone-2']).map(startZone));

  const env: MeshEnv = {
    global,
    zones,
    replicas,
    admin,
    meshctl: (...args) => runBin('meshctl', args, { env: ctlEnv }),
    meshctlInput: (input, ...args) => runBin('meshctl', args, { env: ctlEnv, input }),
    dataplaneToken: (o) =>
      text('/tokens/dataplane', {
        mesh: o.mesh,
        name: o.name,
        ...(o.tags ? { tags: o.tags } : {}),
        ...(o.workload ? { workload: o.workload } : {}),
        validFor: o.validFor ?? '2h',
      }),
    async startService(zone, o) {
      const mesh = o.mesh ?? 'default';
      const token = o.token ?? (await env.dataplaneToken({ mesh, name: o.name, tags: { 'kuma.io/service': o.service } }));
      const proc = zones[zone];
      if (!proc) throw new Error(`no zone ${zone}`);
      const all = replicas[zone] ?? [proc];
      const handle = connectIdentity({
        // Every replica of the zone; a restarted zone comes back on the same API port.
        zone: all.length > 1 ? all.map((r) => r.apiUrl) : proc.apiUrl,
        token,
        ca: await readFile(proc.caFile, 'utf8'),
        csr: o.csr === true,
        reconnect: { baseMs: 100, maxMs: 500 },
        dataplane: {
          mesh,
          name: o.name,
          ...(o.labels ? { labels: o.labels } : {}),
          networking: { address: '127.0.0.1', inbound: [{ port: 1, tags: { 'kuma.io/service': o.service } }] },
        },
      });
      const inMesh = o.allow ?? ((id: string) => id.startsWith(`spiffe://${mesh}/`));
      const server = await createMtlsServer(handle, inMesh, (_req, res) => res.end(`${o.service}@${zone}`));
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const agentFor = mtlsAgent(handle, inMesh);
      const svc: MeshService = {
        zone,
        mesh,
        name: o.name,
        service: o.service,
        spiffeId: `spiffe://${mesh}/${o.service}`,
        handle,
        server,
        url,
        call: (target) =>
          new Promise((ok, fail) => {
            const req = request(
              `${target.url}/`,
              { agent: agentFor(), servername: 'localhost', checkServerIdentity: () => undefined },
              (res) => {
                let body = '';
                res.on('data', (d: Buffer) => (body += d.toString()));
                res.on('end', () => (res.statusCode === 200 ? ok(body) : fail(new Error(`HTTP ${res.statusCode}: ${body}`))));
              },
            );
            req.on('error', fail);
            req.end();
          }),
        async close() {
          server.closeAllConnections();
          await new Promise<void>((ok) => server.close(() => ok()));
          await handle.close();
        },
      };
      services.push(svc);
      return svc;
    },
    async restartZone(zone) {
      return startZone(zone);
    },
    async addZoneReplica(zone) {
      const proc = await startZoneProcessWithEnv(zone, zones[zone]!.dataDir);
      (replicas[zone] ??= []).push(proc);
      return proc;
    },
    async restartGlobal() {
      await env.global.stop();
      env.global = await launchGlobal(env.global);
      return env.global;
    },
    async stop() {
      await Promise.all(services.map((s) => s.close().catch(() => undefined)));
      await Promise.all(Object.values(replicas).flatMap((rs) => rs.map((z) => z.stop())));
      await env.global.stop();
    },
  };
  return env;
}

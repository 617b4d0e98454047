#!/usr/bin/env node
// `npm start`: a whole mesh on this machine. Global (in-memory store), two zones with zone tokens made
// here, a builtin Mesh "default", and in each zone one dataplane: a meshca-dp agent writing
// cert.pem/key.pem/bundle.pem and a tiny HTTPS service (deploy/demo/service.mjs) that reloads them on
// SIGHUP. The services call each other across zones over mTLS. See docs/demo.md.
// MESHCA_DEMO_IDENTITY=1: the same, on a MeshIdentity (each zone its own CA and trust domain, its
// MeshTrust published to the other) instead of the Mesh's builtin CA.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// MESHCA_DEMO_DIR: where the data dirs, tokens and logs go (tests run a second demo beside yours).
const home = process.env.MESHCA_DEMO_DIR ? resolve(process.env.MESHCA_DEMO_DIR) : join(root, '.meshca');
const rel = (p) => relative(process.cwd(), p) || '.';
const env = process.env;
const port = (name, fallback, { zeroPicksFree = false } = {}) => {
  const value = Number(env[name] ?? fallback);
  if (!Number.isInteger(value) || value < (zeroPicksFree ? 0 : 1) || value > 65535) fail(`${name}=${env[name]} is not a TCP port`);
  return value;
};
const ports = {
  globalApi: port('MESHCA_GLOBAL_API_PORT', env.MESHCA_API_PORT ?? 5681),
  globalSync: port('MESHCA_GLOBAL_SYNC_PORT', 5685),
  zones: { 'zone-1': port('MESHCA_ZONE1_PORT', 5682), 'zone-2': port('MESHCA_ZONE2_PORT', 5692) },
  services: { 'zone-1': port('MESHCA_DEMO_WEB_PORT', 5683), 'zone-2': port('MESHCA_DEMO_BACKEND_PORT', 5693) },
  // Prometheus metrics (GET /metrics): global's default, and one port per zone on this one machine.
  metrics: {
    global: port('MESHCA_GLOBAL_METRICS_PORT', 5680, { zeroPicksFree: true }),
    'zone-1': port('MESHCA_ZONE1_METRICS_PORT', 5687, { zeroPicksFree: true }),
    'zone-2': port('MESHCA_ZONE2_METRICS_PORT', 5697, { zeroPicksFree: true }),
    // The demo agents' (meshca-dp --metrics-address): deploy/prometheus scrapes an agent too.
    agents: {
      'zone-1': port('MESHCA_DEMO_WEB_METRICS_PORT', 5688, { zeroPicksFree: true }),
      'zone-2': port('MESHCA_DEMO_BACKEND_METRICS_PORT', 5698, { zeroPicksFree: true }),
    },
  },
};
const certTtl = env.MESHCA_DEMO_CERT_TTL;
const interval = env.MESHCA_DEMO_INTERVAL ?? '1500';
const withDemo = env.MESHCA_DEMO !== '0';
const withIdentity = env.MESHCA_DEMO_IDENTITY === '1';
// One dataplane per zone: web in zone-1 calls backend in zone-2 and back.
const dataplanes = [
  { zone: 'zone-1', name: 'web-1', service: 'web', peer: 'zone-2' },
  { zone: 'zone-2', name: 'backend-1', service: 'backend', peer: 'zone-1' },
];

const bins = {
  global: join(root, 'apps/global/bin/meshca-global.mjs'),
  zone: join(root, 'apps/zone/bin/meshca-zone.mjs'),
  meshctl: join(root, 'apps/ctl/bin/meshctl.mjs'),
  dp: join(root, 'apps/dp-agent/bin/meshca-dp.mjs'),
  service: join(root, 'deploy/demo/service.mjs'),
};
const logs = join(home, 'logs');
const tokens = join(home, 'tokens');
mkdirSync(logs, { recursive: true });
mkdirSync(tokens, { recursive: true, mode: 0o700 });
// The children read no MESHCA_* settings of this shell: every one gets explicit flags.
const childEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !k.startsWith('MESHCA_') || k === 'MESHCA_LOG_LEVEL'));
const ctlEnv = { ...childEnv, MESHCTL_CONFIG: join(home, 'meshctl.yaml') };

/** @type {{ name: string, child: import('node:child_process').ChildProcess }[]} */
const children = [];
let stopping = false;
/** Processes that exited after they had started, by name: Enter starts them again (same arguments). */
const stopped = new Map();

if (process.stdin.isTTY) {
  createInterface({ input: process.stdin }).on('line', () => {
    for (const [name, { args, opts }] of stopped) {
      stopped.delete(name);
      print(name, 'starting again');
      startChild(name, args, opts).started.then(
        () => print(name, 'running again'),
        () => {},
      );
    }
  });
}

function fail(message) {
  console.error(`npm start: ${message}`);
  process.exit(1);
}

function print(who, line) {
  console.log(`[${who}] ${line}`);
}

/**
 * Starts a child whose output goes to .meshca/logs/<name>.log. JSON log lines (pino) are offered
 * to `onLog`; plain lines to `onText`. Resolves when `ready(entry)` holds for a log line.
 */
function startChild(name, args, { onLog, onText, ready } = {}) {
  const out = createWriteStream(join(logs, `${name}.log`), { flags: 'w' });
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
  children.push({ name, child });
  let readyEntry;
  const recent = [];
  const started = new Promise((ok, no) => {
    const onLine = (line) => {
      out.write(`${line}\n`);
      recent.push(line);
      if (recent.length > 30) recent.shift();
      let entry;
      try {
        entry = JSON.parse(line);
      } catch {
        onText?.(line);
        return;
      }
      if (ready && readyEntry === undefined && ready(entry)) {
        readyEntry = entry;
        ok(entry);
      }
      onLog?.(entry);
    };
    createInterface({ input: child.stdout }).on('line', onLine);
    createInterface({ input: child.stderr }).on('line', onLine);
    child.once('exit', (code, signal) => {
      out.end();
      if (stopping) return;
      no(new Error(`${name} exited (${signal ?? code}); see ${rel(join(logs, `${name}.log`))}`));
      // The line that says why: an error log entry or a thrown Error, else the last line.
      const why = [...recent].reverse().find((l) => /"level":(50|60)|^\w*Error\b|Error:/.test(l)) ?? recent.at(-1) ?? '';
      let said = why;
      try {
        const entry = JSON.parse(why);
        said = [entry.msg, entry.err?.message ?? entry.err].filter(Boolean).join(': ');
      } catch {}
      const log = rel(join(logs, `${name}.log`));
      if (readyEntry !== undefined || !ready) {
        // It ran, and stopped (someone killed it, or it failed): the others keep running, as they
        // would across hosts. A zone without global, or global with a zone gone, is the point.
        stopped.set(name, { args, opts: { onLog, onText, ready } });
        console.error(
          `[${name}] exited (${signal ?? code})${said && code !== 0 ? `: ${said}` : ''}; the others keep running (see ${log}).` +
            (process.stdin.isTTY ? ` Press Enter to start ${name} again, Ctrl-C to stop everything.` : ''),
        );
        return;
      }
      const ports = /EADDRINUSE/.test(said) ? '; ports can be changed with MESHCA_*_PORT (docs/demo.md)' : '';
      console.error(`[${name}] exited (${signal ?? code}) while starting: ${said}\n  see ${log}${ports}. Stopping everything.`);
      void stopAll(1);
    });
    if (!ready) ok(undefined);
  });
  return { child, started };
}

/** Warnings and errors of the control planes, one readable line each. */
const warnings = (who) => (entry) => {
  if (!stopping && typeof entry.level === 'number' && entry.level >= 40)
    print(
      who,
      `${entry.level >= 50 ? 'error' : 'warn'}: ${entry.msg}${entry.err ? ` (${typeof entry.err === 'string' ? entry.err : (entry.err.message ?? '')})` : ''}`,
    );
};

function meshctl(args, input) {
  return new Promise((ok, no) => {
    const child = spawn(process.execPath, [bins.meshctl, ...args], { env: ctlEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdin.end(input ?? '');
    child.on('exit', (code) => (code === 0 ? ok(stdout) : no(new Error(`meshctl ${args.slice(0, 2).join(' ')} failed: ${stderr.trim()}`))));
  });
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  // Dataplanes first, then zones, then global, each with SIGTERM; whatever still runs 4 s after
  // the signal is killed, so everything is gone within 5 s (what a supervisor or Ctrl-C expects).
  const deadline = setTimeout(() => {
    for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }, 4000);
  for (const group of [
    children.filter((c) => !/^(global|zone-\d)$/.test(c.name)),
    children.filter((c) => c.name.startsWith('zone-')),
    children.filter((c) => c.name === 'global'),
  ]) {
    await Promise.all(
      group.map(
        ({ child }) =>
          new Promise((ok) => {
            if (child.exitCode !== null || child.signalCode !== null) return ok();
            child.once('exit', () => ok());
            child.kill('SIGTERM');
          }),
      ),
    );
  }
  clearTimeout(deadline);
  process.exit(code);
}

for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (!stopping) console.log(`\n${sig}: stopping services, agents, zones and global...`);
    void stopAll(0);
  });
}
// Last resort: whatever happens to this process, its children do not outlive it.
process.on('exit', () => {
  for (const { child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

async function main() {
  // --- global
  const globalDir = join(home, 'global');
  mkdirSync(globalDir, { recursive: true });
  const global = startChild(
    'global',
    [
      bins.global,
      '--data-dir',
      globalDir,
      '--store',
      'memory',
      '--api-address',
      '127.0.0.1',
      '--api-port',
      String(ports.globalApi),
      '--sync-port',
      String(ports.globalSync),
      '--metrics-address',
      `127.0.0.1:${ports.metrics.global}`,
    ],
    {
      ready: (e) => typeof e.api === 'string',
      onLog: warnings('global'),
    },
  );
  await global.started;
  const api = `https://127.0.0.1:${ports.globalApi}`;
  print('global', `API ${api}, zone sync wss://127.0.0.1:${ports.globalSync} (in-memory store; data in ${rel(globalDir)})`);
  await meshctl([
    'config',
    'control-planes',
    'add',
    '--name',
    'local',
    '--address',
    api,
    '--token-file',
    join(globalDir, 'admin-token'),
    '--ca-cert-file',
    join(globalDir, 'api-ca.pem'),
    '--overwrite',
  ]);

  if (!withDemo) return banner(api);

  // --- the Mesh, and in identity mode its MeshIdentity
  if (withIdentity) {
    await meshctl(['apply', '-f', '-'], 'type: Mesh\nname: default\n');
    const identity = [
      'type: MeshIdentity',
      'name: workloads',
      'mesh: default',
      'spec:',
      '  selector:',
      '    dataplane:',
      '      matchLabels: {}',
      '  spiffeID:',
      "    trustDomain: '{{ .Mesh }}.{{ .Zone }}.mesh.local'",
      "    path: '/workload/{{ .Workload }}'",
      '  provider:',
      '    type: Bundled',
      '    bundled:',
      '      insecureAllowSelfSigned: true',
      '      autogenerate:',
      '        enabled: true',
      ...(certTtl ? ['      certificateParameters:', `        expiry: ${certTtl}`] : []),
    ];
    await meshctl(['apply', '-f', '-'], `${identity.join('\n')}\n`);
    print(
      'global',
      `applied Mesh default (no Mesh.mtls) and MeshIdentity workloads: each zone makes its own CA, certificates valid ${certTtl ?? '24h (default)'}`,
    );
  } else {
    const mesh = ['type: Mesh', 'name: default', 'mtls:', '  enabledBackend: ca-1', '  backends:', '  - name: ca-1', '    type: builtin'];
    if (certTtl) mesh.push('    dpCert:', '      rotation:', `        expiration: ${certTtl}`);
    await meshctl(['apply', '-f', '-'], `${mesh.join('\n')}\n`);
    print('global', `applied Mesh default: builtin CA "ca-1", dataplane certificates valid ${certTtl ?? '24h (default)'}`);
  }

  // --- zones
  const zones = {};
  await Promise.all(
    Object.keys(ports.zones).map(async (zone) => {
      const tokenFile = join(tokens, `${zone}.token`);
      writeFileSync(tokenFile, await meshctl(['generate', 'zone-token', '--zone', zone, '--valid-for', '720h']), { mode: 0o600 });
      const dataDir = join(home, zone);
      mkdirSync(dataDir, { recursive: true });
      const proc = startChild(
        zone,
        [
          bins.zone,
          '--zone',
          zone,
          '--global',
          `wss://127.0.0.1:${ports.globalSync}`,
          '--global-ca-file',
          join(globalDir, 'sync-ca.pem'),
          '--zone-token-file',
          tokenFile,
          '--data-dir',
          dataDir,
          '--store',
          'memory',
          '--api-address',
          '127.0.0.1',
          '--api-port',
          String(ports.zones[zone]),
          '--metrics-address',
          `127.0.0.1:${ports.metrics[zone]}`,
        ],
        {
          ready: (e) => typeof e.api === 'string',
          onLog: warnings(zone),
        },
      );
      await proc.started;
      zones[zone] = { api: `https://127.0.0.1:${ports.zones[zone]}`, caFile: join(dataDir, 'api-ca.pem') };
      print(zone, `zone control plane ${zones[zone].api}, synced from global with its zone token (${rel(tokenFile)})`);
    }),
  );

  if (withIdentity) {
    // Each zone's MeshTrust reaches the other before any dataplane starts, so the first calls succeed.
    for (let i = 0; ; i++) {
      const trusts = JSON.parse(await meshctl(['get', 'meshtrusts', '--mesh', 'default', '-o', 'json'])).items ?? [];
      if (trusts.length >= Object.keys(zones).length) {
        print('global', `MeshTrusts published by the zones: ${trusts.map((t) => `${t.name} (${t.spec.trustDomain})`).join(', ')}`);
        break;
      }
      if (i === 100) fail('the zones did not publish their MeshTrusts within 20 s; see .meshca/logs');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  // --- one dataplane per zone: the service (waits for its files), then the agent that signals it
  for (const dp of dataplanes) {
    const tokenFile = join(tokens, `${dp.name}.token`);
    writeFileSync(
      tokenFile,
      await meshctl([
        'generate',
        'dataplane-token',
        '--mesh',
        'default',
        '--name',
        dp.name,
        '--tag',
        `kuma.io/service=${dp.service}`,
        // The MeshIdentity's path names the workload (Kuma's kuma.io/workload label, set from the token).
        ...(withIdentity ? ['--workload', dp.name] : []),
        '--valid-for',
        '720h',
      ]),
      { mode: 0o600 },
    );
    const dir = join(home, 'dp', dp.name);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const peer = dataplanes.find((d) => d.zone === dp.peer);
    const service = startChild(
      `${dp.zone}-${dp.service}`,
      [
        bins.service,
        '--zone',
        dp.zone,
        '--service',
        dp.service,
        '--dir',
        dir,
        '--port',
        String(ports.services[dp.zone]),
        '--peer',
        `${peer.service}@${peer.zone}=https://127.0.0.1:${ports.services[peer.zone]}${withIdentity ? `=spiffe://default.${peer.zone}.mesh.local/workload/${peer.name}` : ''}`,
        ...(withIdentity ? Object.keys(ports.zones).flatMap((z) => ['--accept', `spiffe://default.${z}.mesh.local/`]) : []),
        '--interval',
        interval,
      ],
      { onText: (line) => console.log(line) },
    );
    const statusPort = ports.services[dp.zone] + 1;
    startChild(
      `${dp.zone}-meshca-dp`,
      [
        bins.dp,
        '--zone',
        zones[dp.zone].api,
        '--ca-file',
        zones[dp.zone].caFile,
        '--token-file',
        tokenFile,
        '--dir',
        dir,
        '--name',
        dp.name,
        '--mesh',
        'default',
        '--address',
        '127.0.0.1',
        '--inbound',
        `port=${ports.services[dp.zone]},kuma.io/service=${dp.service}`,
        '--signal-pid',
        String(service.child.pid),
        '--signal',
        'SIGHUP',
        '--status-port',
        String(statusPort),
        '--metrics-address',
        `127.0.0.1:${ports.metrics.agents[dp.zone]}`,
      ],
      { onLog: agentLine(`${dp.zone} meshca-dp ${dp.name}`) },
    );
    dp.dir = dir;
    dp.statusPort = statusPort;
  }
  banner(api);
}

/** The agent's story in readable lines: files written, waiting, problems. */
function agentLine(who) {
  return (e) => {
    if (e.msg === 'wrote identity files')
      print(
        who,
        `wrote ${e.change === 'bundle' ? 'bundle.pem' : 'cert.pem, key.pem, bundle.pem'} (backend ${e.backend}, serial ${String(e.serial).slice(0, 8)}..) and sent SIGHUP to the service`,
      );
    else if (e.msg === 'waiting for the zone') print(who, `waiting: ${e.reason}`);
    else if (typeof e.level === 'number' && e.level >= 40) print(who, `${e.msg}${e.err ? `: ${e.err}` : ''}`);
  };
}

function banner(api) {
  const lines = [
    '',
    `meshca is running (data and logs in ${rel(home)}; Ctrl-C stops everything):`,
    `  global   ${api}  (zones sync from wss://127.0.0.1:${ports.globalSync}; metrics http://127.0.0.1:${ports.metrics.global}/metrics)`,
  ];
  if (withDemo) {
    for (const dp of dataplanes) {
      lines.push(
        `  ${dp.zone}   https://127.0.0.1:${ports.zones[dp.zone]}  dataplane ${dp.name} (${dp.service}) on https://127.0.0.1:${ports.services[dp.zone]}, files ${rel(dp.dir)}/, agent status http://127.0.0.1:${dp.statusPort}/status`,
      );
    }
  }
  const metricsUrl = (p) => (p === 0 ? '(a free port: see its log)' : `http://127.0.0.1:${p}/metrics`);
  lines.push(
    '',
    `GUI: ${api}/gui/ on global, ${Object.values(ports.zones)
      .map((p) => `https://127.0.0.1:${p}/gui/`)
      .join(
        ' and ',
      )} on the zones (open from this machine; the certificates are signed by ${rel(join(home, 'global/api-ca.pem'))} and each zone's api-ca.pem)`,
    `Metrics: global ${metricsUrl(ports.metrics.global)}, zones ${metricsUrl(ports.metrics['zone-1'])} and ${metricsUrl(ports.metrics['zone-2'])}${
      withDemo ? `, agents ${metricsUrl(ports.metrics.agents['zone-1'])} and ${metricsUrl(ports.metrics.agents['zone-2'])}` : ''
    }`,
    'A process stopped by hand (kill PID) leaves the others running: a zone without global, or global with a zone offline.' +
      (process.stdin.isTTY ? ' Press Enter to start what stopped again.' : ''),
    '',
    `In another terminal, from ${root}:`,
    `  export MESHCTL_CONFIG=${ctlEnv.MESHCTL_CONFIG}`,
    ...(withDemo ? [] : ['  npx meshctl apply -f deploy/examples/mesh-builtin.yaml']),
    '  npx meshctl get meshes',
    "  npx meshctl get dataplanes            # every zone's dataplanes, as global sees them",
    '  npx meshctl inspect zones',
    '  npx meshctl inspect mesh default',
  );
  if (withDemo) {
    lines.push(
      `  curl -s http://127.0.0.1:${dataplanes[0].statusPort}/status`,
      `  openssl x509 -noout -ext subjectAltName -enddate -in ${rel(dataplanes[0].dir)}/cert.pem`,
      `  curl -s --cacert ${rel(join(home, 'global/api-ca.pem'))} ${api}/meshes/default/dataplane-insights`,
    );
    if (withIdentity) lines.push('  npx meshctl get meshidentities; npx meshctl get meshtrusts');
    if (!certTtl) lines.push('Watch a rotation: MESHCA_DEMO_CERT_TTL=2m npm start');
    if (!withIdentity) lines.push('The same on a MeshIdentity with per-zone trust domains: MESHCA_DEMO_IDENTITY=1 npm start');
  }
  console.log(`${lines.join('\n')}\n`);
}

main().catch((err) => {
  console.error(`npm start: ${err.message}`);
  void stopAll(1);
});

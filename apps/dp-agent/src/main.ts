// meshca-dp: the dataplane agent. See docs/dataplanes.md.
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { closeOnSignals, createLogger, parseMetricsAddress } from '@meshca/common';
import { runAgent } from './agent.js';
import { dataplaneFromFlags, readDataplaneFile } from './dataplane.js';

const program = new Command('meshca-dp')
  .description("Fetches this dataplane's mesh identity from its zone, writes cert.pem/key.pem/bundle.pem and keeps them rotated.")
  .requiredOption(
    '--zone <url>',
    'zone control plane, https://HOST:PORT; repeat it for the replicas of one zone (the agent moves to the next when one fails)',
    (v: string, previous: string[] | undefined) => [...(previous ?? []), v],
  )
  .requiredOption('--token-file <file>', 'dataplane token (meshctl generate dataplane-token); re-read at every reconnect')
  .requiredOption('--dir <dir>', 'directory for cert.pem, key.pem (0600) and bundle.pem')
  .option('--dataplane-file <file>', 'Dataplane resource, Universal YAML')
  .option('--name <name>', 'dataplane name (without --dataplane-file)')
  .option('--mesh <mesh>', 'mesh (without --dataplane-file)', 'default')
  .option('--address <ip>', 'dataplane address (without --dataplane-file)')
  .option(
    '--inbound <spec>',
    'inbound "port=8080,kuma.io/service=web,version=v1" (repeatable)',
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  )
  .option('--ca-file <file>', 'CA certificate of the zone server (printed by the zone at start)')
  .option('--insecure-skip-verify', 'do not verify the zone server certificate (development only)')
  .option('--csr', 'generate the key here and send a CSR: the key never leaves this host')
  .option('--reload-command <cmd>', 'run after every rotation (shell; MESHCA_CERT_FILE, MESHCA_KEY_FILE, MESHCA_BUNDLE_FILE are set)')
  .option('--signal-pid <pid>', 'signal this process after every rotation', (v: string) => Number(v))
  .addOption(new Option('--signal <signal>', 'signal sent to --signal-pid').default('SIGHUP'))
  .option('--status-port <port>', 'serve GET /status as JSON on 127.0.0.1:<port>', (v: string) => Number(v))
  .option('--metrics-address <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (default: off)', 'off')
  .option('--log-level <level>', 'log level', process.env.MESHCA_LOG_LEVEL ?? 'info');

interface Flags {
  zone: string[];
  tokenFile: string;
  dir: string;
  dataplaneFile?: string;
  name?: string;
  mesh?: string;
  address?: string;
  inbound: string[];
  caFile?: string;
  insecureSkipVerify?: boolean;
  csr?: boolean;
  reloadCommand?: string;
  signalPid?: number;
  signal: string;
  statusPort?: number;
  metricsAddress: string;
  logLevel: string;
}

async function main(): Promise<void> {
  program.parse();
  const f = program.opts<Flags>();
  const log = createLogger({ name: 'meshca-dp', level: f.logLevel });
  if (f.caFile === undefined && f.insecureSkipVerify !== true && !f.zone.every((z) => z.startsWith('http:'))) {
    log.warn('no --ca-file: the zone certificate is checked against the system CAs only');
  }
  const dataplane = f.dataplaneFile !== undefined ? await readDataplaneFile(f.dataplaneFile) : dataplaneFromFlags(f);
  const agent = await runAgent({
    zone: f.zone,
    tokenFile: f.tokenFile,
    dataplane,
    dir: f.dir,
    ...(f.caFile !== undefined ? { ca: await readFile(f.caFile, 'utf8') } : {}),
    ...(f.insecureSkipVerify === true ? { insecureSkipVerify: true } : {}),
    ...(f.csr === true ? { csr: true } : {}),
    reload: {
      ...(f.reloadCommand !== undefined ? { command: f.reloadCommand } : {}),
      ...(f.signalPid !== undefined ? { signalPid: f.signalPid, signal: f.signal as NodeJS.Signals } : {}),
    },
    ...(f.statusPort !== undefined ? { statusPort: f.statusPort } : {}),
    metricsAddress: parseMetricsAddress(f.metricsAddress),
    log,
  });
  log.info({ mesh: dataplane.mesh, dataplane: dataplane.name, zone: f.zone, dir: f.dir, csr: f.csr === true }, 'meshca-dp started');
  closeOnSignals({ close: () => agent.stop() }, log);
}

main().catch((err: unknown) => {
  process.stderr.write(`meshca-dp: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});

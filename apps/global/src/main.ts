import { homedir } from 'node:os';
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '@meshca/common';
import { startGlobal, VERSION } from './global-cp.js';

const program = new Command('meshca-global')
  .description('The global control plane: holds Meshes, validates their CAs and streams them to zones')
  .version(VERSION)
  .option('--data-dir <dir>', 'admin token, TLS material and signing keys', process.env.MESHCA_DATA_DIR ?? join(homedir(), '.meshca', 'global'))
  .option('--store <url>', 'memory, or redis://host:port/db to share state between replicas and survive restarts', process.env.MESHCA_STORE ?? 'memory')
  .option('--api-address <ip>', 'address the HTTP API binds to', '0.0.0.0')
  .option('--api-port <port>', 'HTTPS API port', port, 5681)
  .option('--tls-cert <file>', 'API certificate (PEM); generated at first start when not given')
  .option('--tls-key <file>', 'API private key (PEM)')
  .option('--log-level <level>', 'trace, debug, info, warn or error', process.env.MESHCA_LOG_LEVEL ?? 'info')
  .action(async (opts: { dataDir: string; store: string; apiAddress: string; apiPort: number; tlsCert?: string; tlsKey?: string; logLevel: string }) => {
    const log = createLogger({ name: 'meshca-global', level: opts.logLevel });
    const cp = await startGlobal({
      dataDir: opts.dataDir,
      store: opts.store,
      apiAddress: opts.apiAddress,
      apiPort: opts.apiPort,
      tlsCertFile: opts.tlsCert,
      tlsKeyFile: opts.tlsKey,
      log,
    });
    const caFlag = cp.apiCaFile ? ` --ca-cert-file ${cp.apiCaFile}` : '';
    log.info(`reach it with: meshctl config control-planes add --name global --address ${cp.apiUrl} --token-file ${cp.adminTokenFile}${caFlag}`);
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      await cp.close();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

program.parseAsync().catch((err: unknown) => {
  console.error(`meshca-global: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});

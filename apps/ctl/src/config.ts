import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export interface ControlPlaneEntry {
  name: string;
  address: string;
  /** Files, not values: the token itself never lands in meshctl's config. */
  tokenFile?: string | undefined;
  caCertFile?: string | undefined;
  skipVerify?: boolean | undefined;
}

/** What meshctl connects with: a configured control plane, flags and environment, or kumactl's default. */
export interface Connection extends ControlPlaneEntry {
  /** Nothing was configured or given: the default address (and the CA found next to a local global, if any). */
  defaulted?: boolean;
}

export interface CtlConfig {
  current?: string | undefined;
  controlPlanes: ControlPlaneEntry[];
}

/** As kumactl: with no control plane configured, the one on this machine. */
export const DEFAULT_ADDRESS = 'https://localhost:5681';

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  return env.MESHCTL_CONFIG ?? join(homedir(), '.meshca', 'meshctl.yaml');
}

/** Where `meshca-global` keeps its API CA when started with its defaults (`--data-dir`, `MESHCA_DATA_DIR`). */
export function localGlobalCaFile(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.MESHCA_DATA_DIR ?? join(homedir(), '.meshca', 'global'), 'api-ca.pem');
}

export async function loadConfig(file = configPath()): Promise<CtlConfig> {
  try {
    const doc = parse(await readFile(file, 'utf8')) as Partial<CtlConfig> | null;
    return { current: doc?.current, controlPlanes: doc?.controlPlanes ?? [] };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { controlPlanes: [] };
    throw new Error(`cannot read meshctl config ${file}: ${(err as Error).message}`);
  }
}

export async function saveConfig(config: CtlConfig, file = configPath()): Promise<void> {
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, stringify(config), { mode: 0o600 });
}

export interface ConnectionFlags {
  address?: string;
  tokenFile?: string | undefined;
  caCertFile?: string | undefined;
  skipVerify?: boolean | undefined;
}

/**
 * Flags win over environment, which wins over the current control plane of the config file. With
 * none of them, kumactl's default: https://localhost:5681, trusting the API CA of a global started
 * on this machine with its default data directory when that file exists.
 */
export async function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  const config = await loadConfig(configPath(env));
  const current = config.controlPlanes.find((c) => c.name === config.current);
  const configured = flags.address ?? env.MESHCA_ADDRESS ?? current?.address;
  const address = configured ?? DEFAULT_ADDRESS;
  const fromFlagsOrEnv = flags.address !== undefined || env.MESHCA_ADDRESS !== undefined;
  const pick = <T>(flag: T | undefined, envValue: T | undefined, saved: T | undefined) =>
    flag ?? envValue ?? (fromFlagsOrEnv ? undefined : saved);
  const tokenFile = pick(flags.tokenFile, env.MESHCA_TOKEN_FILE, current?.tokenFile);
  const localCa = configured === undefined && existsSync(localGlobalCaFile(env)) ? localGlobalCaFile(env) : undefined;
  const caCertFile = pick(flags.caCertFile, env.MESHCA_CA_CERT_FILE, current?.caCertFile) ?? localCa;
  return {
    name: current?.name ?? (configured === undefined ? 'default' : 'flags'),
    address,
    ...(tokenFile ? { tokenFile: resolve(tokenFile) } : {}),
    ...(caCertFile ? { caCertFile: resolve(caCertFile) } : {}),
    skipVerify: flags.skipVerify ?? (fromFlagsOrEnv ? false : (current?.skipVerify ?? false)),
    ...(configured === undefined ? { defaulted: true } : {}),
  };
}

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parse, stringify } from 'yaml';

export interface ControlPlaneEntry {
  name: string;
  address: string;
  /** Files, not values: the token itself never lands in meshctl's config. */
  tokenFile?: string;
  caCertFile?: string;
  skipVerify?: boolean;
}

export interface CtlConfig {
  current?: string;
  controlPlanes: ControlPlaneEntry[];
}

export function configPath(): string {
  return process.env.MESHCTL_CONFIG ?? join(homedir(), '.meshca', 'meshctl.yaml');
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
  tokenFile?: string;
  caCertFile?: string;
  skipVerify?: boolean;
}

/** Flags win over environment, which wins over the current control plane of the config file. */
export async function resolveConnection(flags: ConnectionFlags): Promise<ControlPlaneEntry> {
  const config = await loadConfig();
  const current = config.controlPlanes.find((c) => c.name === config.current);
  const address = flags.address ?? process.env.MESHCA_ADDRESS ?? current?.address;
  if (!address) {
    throw new Error('no control plane configured: run "meshctl config control-planes add --name NAME --address https://HOST:5681 --token-file FILE", or pass --address');
  }
  const fromFlagsOrEnv = flags.address !== undefined || process.env.MESHCA_ADDRESS !== undefined;
  const pick = <T>(flag: T | undefined, env: T | undefined, saved: T | undefined) => flag ?? env ?? (fromFlagsOrEnv ? undefined : saved);
  const tokenFile = pick(flags.tokenFile, process.env.MESHCA_TOKEN_FILE, current?.tokenFile);
  const caCertFile = pick(flags.caCertFile, process.env.MESHCA_CA_CERT_FILE, current?.caCertFile);
  return {
    name: current?.name ?? 'flags',
    address,
    ...(tokenFile ? { tokenFile: resolve(tokenFile) } : {}),
    ...(caCertFile ? { caCertFile: resolve(caCertFile) } : {}),
    skipVerify: flags.skipVerify ?? (fromFlagsOrEnv ? false : current?.skipVerify ?? false),
  };
}

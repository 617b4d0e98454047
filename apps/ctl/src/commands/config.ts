import { resolve } from 'node:path';
import { configPath, loadConfig, saveConfig, type ControlPlaneEntry } from '../config.js';
import { printTable } from '../output.js';

export async function addControlPlane(entry: ControlPlaneEntry, overwrite: boolean): Promise<void> {
  new URL(entry.address); // refuse a malformed address before saving it
  const config = await loadConfig();
  const existing = config.controlPlanes.findIndex((c) => c.name === entry.name);
  if (existing >= 0 && !overwrite) throw new Error(`control plane "${entry.name}" is already configured; add --overwrite to replace it`);
  const saved: ControlPlaneEntry = {
    ...entry,
    ...(entry.tokenFile ? { tokenFile: resolve(entry.tokenFile) } : {}),
    ...(entry.caCertFile ? { caCertFile: resolve(entry.caCertFile) } : {}),
  };
  if (existing >= 0) config.controlPlanes[existing] = saved;
  else config.controlPlanes.push(saved);
  config.current = entry.name;
  await saveConfig(config);
  process.stdout.write(`added control plane "${entry.name}" (${entry.address}) and switched to it; config in ${configPath()}\n`);
}

export async function listControlPlanes(): Promise<void> {
  const config = await loadConfig();
  printTable(
    ['ACTIVE', 'NAME', 'ADDRESS'],
    config.controlPlanes.map((c) => [c.name === config.current ? '*' : '', c.name, c.address]),
  );
}

export async function switchControlPlane(name: string): Promise<void> {
  const config = await loadConfig();
  if (!config.controlPlanes.some((c) => c.name === name)) {
    throw new Error(`no control plane named "${name}"; see meshctl config control-planes list`);
  }
  config.current = name;
  await saveConfig(config);
  process.stdout.write(`switched to control plane "${name}"\n`);
}

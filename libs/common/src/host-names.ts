// The names a control plane on this host is reached by, for its generated certificates: loopback,
// the host name and its fully qualified form, every interface address, the bind address, and the
// operator's --tls-san names. A zone on another host dials global by one of these.
import { lookup, lookupService } from 'node:dns/promises';
import { hostname, networkInterfaces } from 'node:os';

const LOOPBACK = ['localhost', '127.0.0.1', '::1'];

/** Resolves within `ms` or gives undefined: a host with no resolver must still start. */
async function within<T>(ms: number, p: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  try {
    return await Promise.race([p.catch(() => undefined), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The host name's fully qualified forms, as `hostname --fqdn` finds them (/etc/hosts, then DNS). */
async function fullyQualified(host: string): Promise<string[]> {
  const addresses = (await within(1000, lookup(host, { all: true }))) ?? [];
  const names = await Promise.all(addresses.map((a) => within(1000, lookupService(a.address, 0))));
  return names.flatMap((n) => (n !== undefined && n.hostname.includes('.') ? [n.hostname] : []));
}

function interfaceAddresses(): string[] {
  let interfaces: ReturnType<typeof networkInterfaces>;
  try {
    interfaces = networkInterfaces();
  } catch {
    // A sandbox without netlink sockets (systemd's RestrictAddressFamilies without AF_NETLINK):
    // the certificate still has loopback, the host names and --tls-san.
    return [];
  }
  return Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter((i) => !(i.family === 'IPv6' && (i.scopeid ?? 0) !== 0)) // link-local needs a zone id: not a name to dial
    .map((i) => i.address);
}

/** Every name the generated certificates cover by default, then the extra ones; no duplicates. */
export async function serverNames(opts: { bindAddress?: string; extra?: readonly string[] } = {}): Promise<string[]> {
  const host = hostname();
  const bind = opts.bindAddress !== undefined && opts.bindAddress !== '0.0.0.0' && opts.bindAddress !== '::' ? [opts.bindAddress] : [];
  const names = [...LOOPBACK, host, ...(await fullyQualified(host)), ...interfaceAddresses(), ...bind, ...(opts.extra ?? [])];
  return [...new Set(names.map((n) => n.toLowerCase()))];
}

import { VERSION } from '@meshca/common';
import { Command, Option } from 'commander';
import { createClient, type ApiClient } from './client.js';
import { resolveConnection, type ConnectionFlags } from './config.js';
import { applyCommand } from './commands/apply.js';
import { addControlPlane, listControlPlanes, switchControlPlane } from './commands/config.js';
import { deleteCommand, getCommand } from './commands/get.js';
import {
  generateDataplaneToken,
  generateZoneToken,
  listSigningKeys,
  parseTag,
  revokeSigningKey,
  revokeToken,
  rotateSigningKey,
} from './commands/generate.js';
import { inspectZones } from './commands/zones.js';
import { inspectMesh } from './commands/inspect-mesh.js';
import { inspectDataplanes } from './commands/inspect-dataplanes.js';
import { KIND_NAMES } from './kinds.js';
import { parseFormat } from './output.js';
import { report } from './report.js';

const program = new Command('meshctl')
  .description('Command line for meshca control planes')
  .version(VERSION)
  .option('--address <url>', 'control plane API address (default: the current control plane of the config, else https://localhost:5681)')
  .option('--token-file <file>', 'file holding the admin token')
  .option('--ca-cert-file <file>', 'CA certificate that signed the API certificate')
  .option('--skip-verify', 'do not verify the API certificate (development only)')
  .showHelpAfterError();

async function client(): Promise<ApiClient> {
  return createClient(await resolveConnection(program.opts<ConnectionFlags>()));
}

program
  .command('apply')
  .description('create or update resources from YAML or JSON files (Universal or Kubernetes form)')
  // Checked by the command, which says how to give it (commander's message would not mention -f -).
  .option(
    '-f, --file <file>',
    'file to apply, or - for standard input; repeatable (required)',
    (v: string, prev: string[]) => [...prev, v],
    [] as string[],
  )
  .option('--dry-run', 'validate everything, including the CA checks, and store nothing')
  .option('--force-rotation', 'skip the CA rotation validators for this apply (global logs it)')
  .action(async (opts: { file: string[]; dryRun?: boolean; forceRotation?: boolean }) => applyCommand(await client(), opts));

const outputOption = () => new Option('-o, --output <format>', 'table, yaml or json').default('table').argParser(parseFormat);

program
  .command('get')
  .description(`list resources, or show one: ${KIND_NAMES}`)
  .argument('<type>', 'resource type, singular or plural (mesh or meshes)')
  .argument('[name]', 'one resource to show')
  .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
  .addOption(outputOption())
  .action(async (type: string, name: string | undefined, opts: { mesh: string; output: ReturnType<typeof parseFormat> }) =>
    getCommand(await client(), type, name, opts),
  );

program
  .command('delete')
  .description(`delete a resource: ${KIND_NAMES}`)
  .argument('<type>', 'resource type, singular or plural (mesh or meshes)')
  .argument('<name>')
  .option('-m, --mesh <mesh>', 'mesh of mesh-scoped resources', 'default')
  .action(async (type: string, name: string, opts: { mesh: string }) => deleteCommand(await client(), type, name, opts));

const generate = program.command('generate').description('tokens, signed by the global control plane');
generate
  .command('zone-token')
  .description('a token that lets one zone connect to global (meshca-zone --zone-token-file)')
  .requiredOption('--zone <name>', 'the zone it is for')
  .option('--valid-for <duration>', 'lifetime, e.g. 8760h or 30d', '8760h')
  .action(async (opts: { zone: string; validFor: string }) => generateZoneToken(await client(), opts));
generate
  .command('dataplane-token')
  .description('a token a dataplane presents to its zone to get its identity')
  .requiredOption('-m, --mesh <mesh>', 'mesh of the dataplane')
  .requiredOption('--name <name>', 'dataplane name')
  .option(
    '--tag <key=value>',
    'a tag the dataplane may claim, e.g. kuma.io/service=web; repeatable',
    parseTag,
    {} as Record<string, string[]>,
  )
  .option('--workload <name>', 'required kuma.io/workload label value for the dataplane (set on it when it has none), as in kumactl')
  .option('--valid-for <duration>', 'lifetime, e.g. 24h', '24h')
  .action(async (opts: { mesh: string; name: string; tag: Record<string, string[]>; workload?: string; validFor: string }) =>
    generateDataplaneToken(await client(), opts),
  );

const rotate = program.command('rotate').description('rotate credentials on the global control plane');
rotate
  .command('signing-key')
  .description('add a token signing key: it signs new tokens, older keys keep verifying until revoked')
  .action(async () => rotateSigningKey(await client()));

const revoke = program.command('revoke').description('revoke tokens or signing keys on the global control plane');
revoke
  .command('token')
  .description('refuse one zone or dataplane token from now on')
  .option('-f, --file <file>', 'file holding the token to revoke')
  .option('--jti <id>', 'the token id (jti) to revoke')
  .action(async (opts: { file?: string; jti?: string }) => revokeToken(await client(), opts));
revoke
  .command('signing-key')
  .description('refuse every token signed by this key')
  .argument('<kid>')
  .action(async (kid: string) => revokeSigningKey(await client(), kid));

program
  .command('signing-keys')
  .description('list the token signing keys of the global control plane')
  .action(async () => listSigningKeys(await client()));

program
  .command('inspect')
  .description(
    'zones: stream state, revisions, NACKs; mesh NAME: where a CA rotation stands, per backend and zone; dataplanes: every certificate, its backend and time left',
  )
  .argument('<what>', 'zones, mesh or dataplanes')
  .argument('[name]', 'the mesh, for inspect mesh')
  .option('-m, --mesh <mesh>', 'inspect dataplanes: only this mesh')
  .addOption(outputOption())
  .action(async (what: string, name: string | undefined, opts: { output: ReturnType<typeof parseFormat>; mesh?: string }) => {
    if (what === 'zones' || what === 'zone') return inspectZones(await client(), opts);
    if (what === 'dataplanes' || what === 'dataplane')
      return inspectDataplanes(await client(), { output: opts.output, ...(opts.mesh === undefined ? {} : { mesh: opts.mesh }) });
    if (what === 'mesh' || what === 'meshes') {
      if (!name) throw new Error('inspect mesh needs the mesh name: meshctl inspect mesh default');
      return inspectMesh(await client(), name, opts);
    }
    throw new Error(`inspect knows "zones", "mesh NAME" and "dataplanes", not "${what}"`);
  });

const config = program.command('config').description('meshctl configuration');
const cps = config.command('control-planes').description('the control planes meshctl talks to');
cps
  .command('add')
  .description('add a control plane and switch to it')
  .requiredOption('--name <name>', 'a name for this control plane')
  .option('--overwrite', 'replace a control plane of the same name')
  // --address, --token-file, --ca-cert-file and --skip-verify are the program's own options (see above):
  // commander hands them to the program, so they are read from there.
  .action(async (opts: { name: string; overwrite?: boolean }) => {
    const conn = program.opts<ConnectionFlags>();
    if (!conn.address) throw new Error('config control-planes add needs --address, e.g. --address https://127.0.0.1:5681');
    await addControlPlane(
      {
        name: opts.name,
        address: conn.address,
        tokenFile: conn.tokenFile,
        caCertFile: conn.caCertFile,
        skipVerify: conn.skipVerify ?? false,
      },
      opts.overwrite ?? false,
    );
  });
cps.command('list').action(listControlPlanes);
cps.command('switch').argument('<name>').action(switchControlPlane);

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(report(err) + '\n');
  process.exit(1);
});

import type { ApiClient } from '../client.js';
import { age, printStructured, printTable, type OutputFormat } from '../output.js';

interface ZoneItem {
  name: string;
  status?: {
    online?: boolean;
    connectedAt?: string;
    disconnectedAt?: string;
    lastSeen?: string;
    ackedRevision?: number;
    sentRevision?: number;
    software?: { name: string; version: string };
    nacks?: { revision: number; reason: string; at: string }[];
    refused?: { revision: number; reason: string; at: string }[];
    lastDisconnect?: string;
    /** The zone replica holding the stream (replicas on one Redis). */
    leader?: string;
    /** The global replica the zone streams to. */
    replica?: string;
  };
}

/** `meshctl inspect zones`: everything global knows of each zone's stream. */
export async function inspectZones(client: ApiClient, flags: { output: OutputFormat }): Promise<void> {
  const { body } = await client.call<{ items: ZoneItem[] }>('GET', '/zones');
  if (flags.output !== 'table') return printStructured(body, flags.output);
  printTable(
    [
      'NAME',
      'STATUS',
      'SINCE',
      'LAST SEEN',
      'VERSION',
      'ACKED',
      'SENT',
      'NACKS',
      'REFUSED',
      'ZONE LEADER',
      'GLOBAL REPLICA',
      'LAST DISCONNECT',
    ],
    body.items.map((z) => {
      const s = z.status ?? {};
      return [
        z.name,
        s.online === true ? 'Online' : 'Offline',
        age(s.online === true ? s.connectedAt : s.disconnectedAt),
        age(s.lastSeen),
        s.software?.version ?? '-',
        String(s.ackedRevision ?? '-'),
        String(s.sentRevision ?? '-'),
        String(s.nacks?.length ?? 0),
        String(s.refused?.length ?? 0),
        s.leader ?? '-',
        s.replica ?? '-',
        s.lastDisconnect ?? '-',
      ];
    }),
  );
}

// The GUI's routes (libs/gui): the page and the JSON views it reads, documented like the rest of
// the API (the views' shapes are libs/gui/src/contract.ts).
type Json = Record<string, unknown>;
type Paths = Record<string, Record<string, Json>>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const READ = [{}, { adminToken: [] }];
const NONE: Json[] = [];
const time = { type: 'string', format: 'date-time' };
const str = { type: 'string' };
const int = { type: 'integer', minimum: 0 };
const strings = { type: 'array', items: str };
const ca = { type: 'object', required: ['subject', 'notAfter'], properties: { subject: str, notAfter: time } };
const nack = ref('ZoneNack');

function view(operationId: string, summary: string, schema: string, description: string, extra: Json = {}): Json {
  return {
    operationId,
    tags: ['GUI'],
    summary,
    description: `${description} Open from localhost; needs the admin token from anywhere else. Answers 304 to an If-None-Match naming its current ETag.`,
    security: READ,
    ...extra,
    responses: {
      200: {
        description: 'The view.',
        headers: { ETag: { description: 'A weak ETag naming the data version.', schema: str } },
        content: { 'application/json': { schema: ref(schema) } },
      },
      304: { description: 'Unchanged since the ETag sent in If-None-Match.' },
      401: { description: 'Not from localhost and no token.', content: { 'application/json': { schema: ref('Error') } } },
      403: { description: 'The token is not valid.', content: { 'application/json': { schema: ref('Error') } } },
      ...(extra.responses as Json | undefined),
    },
  };
}

const notFound = { 404: { description: 'No such mesh or dataplane.', content: { 'application/json': { schema: ref('Error') } } } };

export function guiPaths(paths: Paths): void {
  const html = (operationId: string, summary: string): Json => ({
    operationId,
    tags: ['GUI'],
    summary,
    security: NONE,
    responses: {
      200: { description: 'The page (it holds no data: the views are read from /gui/api).', content: { 'text/html': { schema: str } } },
      503: { description: 'The GUI is not built (npm run build).', content: { 'application/json': { schema: ref('Error') } } },
    },
  });
  paths['/gui'] = { get: html('getGuiPage', 'The GUI page (the same as /gui/)') };
  paths['/gui/'] = { get: html('getGui', 'The GUI page') };
  paths['/gui/api/overview'] = {
    get: view('getGuiOverview', 'Overview', 'GuiOverview', 'Zones, meshes, dataplanes per zone, late certificates, problems.'),
  };
  paths['/gui/api/zones'] = { get: view('getGuiZones', 'Zones', 'GuiZones', 'Every zone with its stream and the backends it runs.') };
  paths['/gui/api/meshes/{mesh}'] = {
    get: view(
      'getGuiMesh',
      'A mesh',
      'GuiMesh',
      'Its backends, rotation per backend and zone, and the rotation steps the validators would accept now.',
      {
        parameters: [{ name: 'mesh', in: 'path', required: true, schema: str }],
        responses: notFound,
      },
    ),
  };
  const q = (name: string, description: string, schema: Json = str): Json => ({ name, in: 'query', required: false, description, schema });
  paths['/gui/api/dataplanes'] = {
    get: view(
      'getGuiDataplanes',
      'Dataplanes, one page',
      'GuiDataplanePage',
      'Every dataplane of every zone, filtered, sorted and paged on the server.',
      {
        parameters: [
          q('mesh', 'Only this mesh.'),
          q('zone', 'Only this zone.'),
          q('service', 'Only this kuma.io/service.'),
          q('backend', 'Only certificates from this backend.'),
          q('expiresWithin', 'Connected, expiring within seconds or a duration (1h); "soon": under 1/5 of the lifetime left.'),
          q('errors', '1: only those whose last issuance failed.'),
          q('q', 'A part of the name.'),
          q('sort', 'expiry (default) or name.', { type: 'string', enum: ['expiry', 'name'] }),
          q('offset', 'The first row.', { type: 'integer', minimum: 0 }),
          q('size', 'Rows per page (default 50).', { type: 'integer', minimum: 0, maximum: 200 }),
        ],
        responses: {
          400: {
            description: 'A parameter it cannot use, and how to write it.',
            content: { 'application/json': { schema: ref('Error') } },
          },
        },
      },
    ),
  };
  paths['/gui/api/dataplanes/{mesh}/{name}'] = {
    get: view('getGuiDataplane', 'A dataplane', 'GuiDataplane', 'Its tags, state, and the certificate it holds with its chain.', {
      parameters: [
        { name: 'mesh', in: 'path', required: true, schema: str },
        { name: 'name', in: 'path', required: true, schema: str },
      ],
      responses: notFound,
    }),
  };
  paths['/gui/api/events'] = {
    get: {
      operationId: 'getGuiEvents',
      tags: ['GUI'],
      summary: 'Changes, as they happen',
      description:
        'A text/event-stream that does not end: `event: change` with `{"version": "..."}` whenever the data behind the views may have changed (the same version the ETags name). Open from localhost; needs the admin token from anywhere else.',
      security: READ,
      responses: {
        200: { description: 'The stream.', content: { 'text/event-stream': { schema: str } } },
        401: { description: 'Not from localhost and no token.', content: { 'application/json': { schema: ref('Error') } } },
        403: { description: 'The token is not valid.', content: { 'application/json': { schema: ref('Error') } } },
      },
    },
  };
}

export function guiSchemas(): Record<string, Json> {
  const row = {
    type: 'object',
    required: ['mesh', 'name', 'zone', 'service', 'connected'],
    properties: {
      mesh: str,
      name: str,
      zone: str,
      service: str,
      connected: { type: 'boolean' },
      backend: str,
      serial: str,
      notAfter: time,
      lastError: str,
      zoneOffline: { type: 'boolean', description: 'Its zone is offline: this is what it reported last.' },
    },
  };

  const zoneBackend = {
    type: 'object',
    required: ['mesh', 'backend', 'type', 'available'],
    properties: { mesh: str, backend: str, type: str, available: { type: 'boolean' }, error: str, ca },
  };
  const zone = {
    type: 'object',
    required: ['name', 'online', 'nacks'],
    properties: { name: str, online: { type: 'boolean' }, lastSeen: time, ackedRevision: int, sentRevision: int, nacks: int },
  };
  return {
    GuiDataplaneRow: row,
    GuiOverview: {
      type: 'object',
      required: ['mode', 'version', 'zones', 'meshes', 'dataplanesByZone', 'expiringSoon', 'problems'],
      properties: {
        mode: { type: 'string', enum: ['global', 'zone'] },
        zone: str,
        version: str,
        zones: { type: 'array', items: zone },
        meshes: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'backends', 'identities', 'dataplanes'],
            properties: {
              name: str,
              enabledBackend: str,
              backends: { type: 'array', items: { type: 'object', required: ['name', 'type'], properties: { name: str, type: str } } },
              identities: int,
              dataplanes: int,
            },
          },
        },
        dataplanesByZone: {
          type: 'array',
          items: {
            type: 'object',
            required: ['zone', 'total', 'connected', 'online'],
            properties: { zone: str, total: int, connected: int, online: { type: 'boolean' } },
          },
        },
        expiringSoon: {
          type: 'object',
          required: ['total', 'items'],
          properties: { total: int, items: { type: 'array', items: ref('GuiDataplaneRow') } },
        },
        problems: {
          type: 'array',
          items: { type: 'object', required: ['kind', 'message', 'link'], properties: { kind: str, message: str, link: str } },
        },
      },
    },
    GuiZones: {
      type: 'object',
      required: ['items'],
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'online', 'nacks', 'nackList', 'refused', 'backends'],
            properties: {
              ...zone.properties,
              connectedAt: time,
              disconnectedAt: time,
              lastDisconnect: str,
              software: { type: 'object', properties: { name: str, version: str } },
              lag: int,
              nackList: { type: 'array', items: nack },
              refused: { type: 'array', items: nack },
              leader: str,
              replica: str,
              backends: { type: 'array', items: zoneBackend },
            },
          },
        },
      },
    },
    GuiMesh: {
      type: 'object',
      required: ['name', 'skipValidation', 'dataplanes', 'offlineZones', 'backends', 'rotation', 'steps', 'identities', 'trusts'],
      properties: {
        name: str,
        enabledBackend: str,
        skipValidation: { type: 'boolean' },
        dataplanes: {
          type: 'object',
          required: ['total', 'connected', 'inOfflineZones'],
          properties: { total: int, connected: int, inOfflineZones: int },
        },
        offlineZones: strings,
        backends: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'type', 'enabled', 'validation', 'zones'],
            properties: {
              name: str,
              type: str,
              enabled: { type: 'boolean' },
              validation: str,
              ca,
              zones: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['zone', 'online', 'available'],
                  properties: { zone: str, online: { type: 'boolean' }, available: { type: 'boolean' }, error: str, ca },
                },
              },
            },
          },
        },
        rotation: {
          type: 'array',
          items: {
            type: 'object',
            required: ['backend', 'type', 'enabled', 'zone', 'dataplanes', 'trusting', 'holding', 'expired'],
            properties: {
              backend: str,
              type: str,
              enabled: { type: 'boolean' },
              zone: str,
              dataplanes: int,
              trusting: int,
              holding: int,
              expired: int,
            },
          },
        },
        steps: {
          type: 'array',
          items: {
            type: 'object',
            required: ['step', 'title', 'allowed', 'reasons'],
            properties: {
              step: { type: 'string', enum: ['add', 'switch', 'remove', 'disable'] },
              backend: str,
              title: str,
              allowed: { type: 'boolean' },
              reasons: strings,
            },
          },
        },
        identities: {
          type: 'array',
          items: {
            type: 'object',
            required: ['name', 'zones'],
            properties: { name: str, zones: { type: 'array', items: { type: 'object' } } },
          },
        },
        trusts: { type: 'array', items: { type: 'object', required: ['name', 'zone', 'trustDomain', 'cas', 'trusting', 'connected'] } },
        pending: str,
      },
    },
    GuiDataplanePage: {
      type: 'object',
      required: ['total', 'offset', 'size', 'items', 'facets'],
      properties: {
        total: int,
        offset: int,
        size: int,
        items: { type: 'array', items: ref('GuiDataplaneRow') },
        facets: {
          type: 'object',
          required: ['meshes', 'zones', 'services', 'backends'],
          properties: { meshes: strings, zones: strings, services: strings, backends: strings },
        },
      },
    },
    GuiDataplane: {
      allOf: [
        ref('GuiDataplaneRow'),
        {
          type: 'object',
          required: ['tags', 'trusts'],
          properties: {
            tags: { type: 'object', additionalProperties: strings },
            address: str,
            connectedAt: time,
            disconnectedAt: time,
            lastRegeneration: time,
            regenerations: int,
            trusts: strings,
            pending: str,
            certificate: {
              type: 'object',
              required: ['subject', 'issuer', 'notBefore', 'uriSans', 'sha256', 'chain'],
              properties: {
                subject: str,
                issuer: str,
                notBefore: time,
                uriSans: strings,
                dnsSans: strings,
                sha256: str,
                chain: {
                  type: 'array',
                  items: {
                    type: 'object',
                    required: ['subject', 'issuer', 'notAfter', 'sha256'],
                    properties: { subject: str, issuer: str, notAfter: time, sha256: str },
                  },
                },
              },
            },
          },
        },
      ],
    },
  };
}

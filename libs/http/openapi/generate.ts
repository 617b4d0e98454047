// Builds the OpenAPI 3.0 descriptions of global's and the zone's HTTP API into global.json and
// zone.json beside this file. The JSON files are what is kept and served; this is how they are
// made, so a route added to ROUTES lands in both documents the same way:
//
//   npx tsx libs/http/openapi/generate.ts          (writes the files)
//   npx tsx libs/http/openapi/generate.ts --check  (exits 1 when they are out of date)
//
// libs/http/test/openapi.test.ts fails when the files differ from what this produces,
// test/openapi/routes.test.ts when a document and the express routes of global or the zone differ,
// and test/e2e/schemathesis.test.ts when a live global or zone answers what its document does not say.
import { VERSION } from '@meshca/common';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MESH_SCOPED, ROUTES, type ResourceRoute, type ResourceType } from '@meshca/api';
import { guiPaths, guiSchemas } from './gui.js';

export type ApiKind = 'global' | 'zone';
type Json = Record<string, unknown>;

const ref = (name: string): Json => ({ $ref: `#/components/schemas/${name}` });
const param = (name: string): Json => ({ $ref: `#/components/parameters/${name}` });
const response = (name: string): Json => ({ $ref: `#/components/responses/${name}` });

// ---------------------------------------------------------------- shared schemas

const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';
const DURATION_PATTERN = '^([0-9]{1,6}(\\.[0-9]{1,3})?(ns|us|ms|s|m|h|d|w|y))+$';

/** Secret material is written as one of four sources; answers without the admin token redact the inline ones. */
const dataSource: Json = {
  type: 'object',
  nullable: true,
  description:
    'Where a certificate, key or credential comes from: exactly one of `secret` (the name of a Secret in the mesh, or of a GlobalSecret), ' +
    '`file` (a path on the control plane host), `inline` (base64) or `inlineString` (text). Reads without the admin token redact `inline` and `inlineString`.',
  properties: {
    secret: { type: 'string', minLength: 1, maxLength: 253, pattern: NAME_PATTERN },
    file: { type: 'string', minLength: 1 },
    inline: { type: 'string', minLength: 1 },
    inlineString: { type: 'string', minLength: 1 },
  },
  additionalProperties: false,
  minProperties: 1,
  maxProperties: 1,
};

function schemas(kind: ApiKind): Record<string, Json> {
  const out: Record<string, Json> = {
    Error: {
      type: 'object',
      description: 'Every refusal. `causes` lists each failing field with what to do; error answers never echo secret material.',
      required: ['status', 'title', 'detail', 'causes'],
      additionalProperties: false,
      properties: {
        status: { type: 'integer', minimum: 400, maximum: 599, description: 'The HTTP status, repeated.' },
        title: { type: 'string' },
        detail: { type: 'string', description: 'What went wrong and what to do.' },
        causes: { type: 'array', items: ref('FieldError') },
      },
    },
    FieldError: {
      type: 'object',
      required: ['field', 'message'],
      additionalProperties: false,
      properties: {
        field: {
          type: 'string',
          description: 'The path of the field, e.g. `mtls.backends[0].conf.fromCp.auth` (empty for the whole body).',
        },
        message: { type: 'string' },
      },
    },
    Name: {
      type: 'string',
      minLength: 1,
      maxLength: 253,
      pattern: NAME_PATTERN,
      description:
        "A resource name: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit; at most 253 characters.",
    },
    Labels: {
      type: 'object',
      nullable: true,
      additionalProperties: { type: 'string' },
      description: 'Label names to text values.',
    },
    Duration: {
      type: 'string',
      pattern: DURATION_PATTERN,
      description:
        'A duration with units, as Kuma writes them: `90s`, `10m`, `24h`, `1d`, `1h30m`, `10y` (units ns, us, ms, s, m, h, d, w, y). Each field documents its bounds.',
      example: '24h',
    },
    DataSource: dataSource,
    Mtls: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      description:
        "The mesh's mTLS settings (Kuma's CertificateAuthorityBackend list). Unknown keys are refused with the nearest known name.",
      properties: {
        enabledBackend: { type: 'string', description: 'The name of the backend that issues certificates; absent, mTLS is off.' },
        skipValidation: {
          type: 'boolean',
          nullable: true,
          description: 'Skip the test certificate a vault or acmpca backend must issue before it is accepted.',
        },
        backends: { type: 'array', nullable: true, maxItems: 100, items: ref('Backend') },
      },
    },
    Backend: {
      type: 'object',
      required: ['name', 'type'],
      additionalProperties: false,
      description:
        'One CA backend. `conf` depends on `type`: BuiltinConf, ProvidedConf, VaultConf, AcmpcaConf or CertManagerConf. ' +
        'On input, `type: acm` is read as `acmpca`, and an `acm:` or `certManager:` block as `conf`.',
      properties: {
        name: ref('Name'),
        type: { type: 'string', enum: ['builtin', 'provided', 'vault', 'acmpca', 'cert-manager'] },
        mode: { type: 'string', enum: ['STRICT', 'PERMISSIVE'], description: 'Default STRICT.' },
        dpCert: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          properties: {
            rotation: {
              type: 'object',
              nullable: true,
              additionalProperties: false,
              properties: {
                expiration: {
                  allOf: [ref('Duration')],
                  description: 'Lifetime of a dataplane certificate: at least 1m and within the lifetime left to the CA.',
                },
              },
            },
            requestTimeout: ref('Duration'),
          },
        },
        rootChain: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          properties: { requestTimeout: ref('Duration') },
        },
        conf: {
          anyOf: [ref('BuiltinConf'), ref('ProvidedConf'), ref('VaultConf'), ref('AcmpcaConf'), ref('CertManagerConf')],
        },
      },
    },
    BuiltinConf: {
      type: 'object',
      nullable: true,
      additionalProperties: false,
      description:
        'A CA global generates (ECDSA P-256 unless RSAbits is set) as the Secrets `<mesh>.ca-builtin-cert-<backend>` and `<mesh>.ca-builtin-key-<backend>`.',
      properties: {
        caCert: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          properties: {
            RSAbits: { type: 'integer', enum: [2048, 3072, 4096] },
            expiration: {
              allOf: [ref('Duration')],
              description: 'Lifetime of the generated CA (default 10y); bounded by what X.509 and the peers accept.',
            },
          },
        },
      },
    },
    ProvidedConf: {
      type: 'object',
      required: ['cert', 'key'],
      additionalProperties: false,
      description: 'A CA the operator gives: it must parse, be a CA, be in its validity period and match its key.',
      properties: { cert: ref('DataSource'), key: ref('DataSource') },
    },
    VaultConf: {
      type: 'object',
      required: ['fromCp'],
      additionalProperties: false,
      properties: {
        fromCp: {
          type: 'object',
          required: ['address', 'auth'],
          additionalProperties: false,
          properties: {
            address: { type: 'string', description: 'http(s) URL of Vault, e.g. https://vault:8200' },
            agentAddress: { type: 'string' },
            namespace: { type: 'string' },
            pki: { type: 'string' },
            role: { type: 'string' },
            commonName: { type: 'string' },
            tls: {
              type: 'object',
              nullable: true,
              additionalProperties: false,
              properties: { caCert: ref('DataSource'), skipVerify: { type: 'boolean', nullable: true }, serverName: { type: 'string' } },
            },
            auth: {
              type: 'object',
              additionalProperties: false,
              description: 'Exactly one of token or tls.',
              properties: {
                token: ref('DataSource'),
                tls: {
                  type: 'object',
                  nullable: true,
                  required: ['clientKey', 'clientCert'],
                  additionalProperties: false,
                  properties: { clientKey: ref('DataSource'), clientCert: ref('DataSource') },
                },
              },
            },
          },
        },
      },
    },
    AcmpcaConf: {
      type: 'object',
      required: ['arn'],
      additionalProperties: false,
      properties: {
        arn: { type: 'string', description: 'arn:aws:acm-pca:<region>:<account>:certificate-authority/<id>' },
        commonName: { type: 'string' },
        caCert: ref('DataSource'),
        auth: {
          type: 'object',
          nullable: true,
          additionalProperties: false,
          properties: {
            awsCredentials: {
              type: 'object',
              required: ['accessKey', 'accessKeySecret'],
              additionalProperties: false,
              properties: { accessKey: ref('DataSource'), accessKeySecret: ref('DataSource') },
            },
          },
        },
      },
    },
    CertManagerConf: {
      type: 'object',
      required: ['issuerName'],
      additionalProperties: false,
      properties: { issuerName: { type: 'string' }, issuerKind: { type: 'string' }, issuerGroup: { type: 'string' } },
    },
    NetworkingInbound: {
      type: 'object',
      required: ['port', 'tags'],
      properties: {
        port: { type: 'integer', minimum: 1, maximum: 65535 },
        servicePort: { type: 'integer', minimum: 1, maximum: 65535 },
        address: { type: 'string' },
        tags: { type: 'object', additionalProperties: { type: 'string' }, description: 'Must hold kuma.io/service.' },
      },
    },
    DataplaneNetworking: {
      type: 'object',
      required: ['address'],
      properties: {
        address: { type: 'string' },
        inbound: { type: 'array', items: ref('NetworkingInbound') },
        gateway: {
          type: 'object',
          required: ['tags'],
          properties: {
            type: { type: 'string', enum: ['DELEGATED', 'BUILTIN'] },
            tags: { type: 'object', additionalProperties: { type: 'string' } },
          },
        },
        outbound: { type: 'array', items: {} },
      },
    },
    ResourceList: {
      type: 'object',
      required: ['total', 'items', 'next'],
      additionalProperties: false,
      properties: {
        total: { type: 'integer', minimum: 0, description: 'How many there are in all.' },
        items: { type: 'array', items: { type: 'object' } },
        next: { type: 'string', nullable: true, description: 'The URL (path and query) of the following page, or null on the last page.' },
      },
    },
    Empty: { type: 'object', maxProperties: 0, description: 'An empty object.' },
    Info: {
      type: 'object',
      required: ['product', 'mode', 'version', 'instanceId', 'store'],
      properties: {
        product: { type: 'string', enum: ['meshca'] },
        tagline: { type: 'string' },
        mode: { type: 'string', enum: [kind] },
        version: { type: 'string' },
        instanceId: { type: 'string' },
        store: { type: 'string', description: 'memory or redis' },
        hostname: { type: 'string' },
        ...(kind === 'zone' ? { zone: ref('Name') } : {}),
      },
    },
    Health: { type: 'object', required: ['status'], properties: { status: { type: 'string', enum: ['ok'] } } },
    Ready: {
      type: 'object',
      required: ['status', 'revision'],
      properties: {
        status: { type: 'string', enum: ['ready'] },
        revision: { type: 'integer', minimum: 0, description: 'The store revision now.' },
      },
    },
    NotReady: {
      type: 'object',
      required: ['status'],
      properties: { status: { type: 'string', enum: ['not ready'] }, detail: { type: 'string' } },
    },
    OpenApiDocument: { type: 'object', required: ['openapi', 'info', 'paths'], description: 'This document.' },
    ZoneNack: {
      type: 'object',
      required: ['revision', 'reason', 'at'],
      properties: { revision: { type: 'integer' }, reason: { type: 'string' }, at: { type: 'string', format: 'date-time' } },
    },
  };
  Object.assign(out, resourceSchemas(kind), identitySchemas(), guiSchemas());
  if (kind === 'global') Object.assign(out, globalOnlySchemas());
  else Object.assign(out, zoneOnlySchemas());
  return out;
}

// ---------------------------------------------------------------- resources

interface TypeDoc {
  /** Schemas of the fields besides type, name, mesh, labels and the times. */
  fields: Record<string, Json>;
  /** Required fields of the input besides type and name (and mesh). */
  required?: string[];
  /** Whether fields other than `fields` are kept (Mesh: Kuma's other fields; Zone). */
  open?: boolean;
  /** The Universal form keeps the fields under `spec:` (MeshIdentity). */
  wrapped?: boolean;
  summary: string;
  /** A body to PUT at `.../default` (schemathesis sends it in its examples phase). */
  example: Json;
}

const TYPE_DOCS: Record<ResourceType, TypeDoc> = {
  Mesh: {
    summary: "A mesh. Only `mtls` is checked; Kuma's other fields (meshServices, networking, ...) are kept as they come.",
    fields: { mtls: ref('Mtls') },
    open: true,
    example: {
      type: 'Mesh',
      name: 'default',
      mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin', dpCert: { rotation: { expiration: '24h' } } }] },
    },
  },
  Secret: {
    summary:
      'A secret of one mesh; `data` is base64. Its mesh must exist. Names `<mesh>.ca-builtin-*` are written by the control plane only.',
    fields: { data: { type: 'string', description: 'base64 of the secret (standard or URL-safe, padded or not).' } },
    required: ['data'],
    example: { type: 'Secret', name: 'default', mesh: 'default', data: 'aHZzLmV4YW1wbGU=' },
  },
  GlobalSecret: {
    summary: 'A secret of no mesh; `data` is base64. `meshca-token-verification` is written by global only.',
    fields: { data: { type: 'string', description: 'base64 of the secret (standard or URL-safe, padded or not).' } },
    required: ['data'],
    example: { type: 'GlobalSecret', name: 'default', data: 'aHZzLmV4YW1wbGU=' },
  },
  MeshIdentity: {
    summary:
      "A workload identity: the dataplanes it selects get their certificate from its CA (per zone), with a SPIFFE ID from its templates. `status` is computed from the zones' reports.",
    fields: { spec: ref('MeshIdentitySpec'), status: ref('IdentityStatus') },
    required: ['spec'],
    wrapped: true,
    example: {
      type: 'MeshIdentity',
      name: 'default',
      mesh: 'default',
      spec: {
        selector: { dataplane: { matchLabels: {} } },
        spiffeID: { trustDomain: '{{ .Mesh }}.{{ .Zone }}.mesh.local', path: '/workload/{{ .Workload }}' },
        provider: { type: 'Bundled', bundled: { insecureAllowSelfSigned: true, autogenerate: { enabled: true } } },
      },
    },
  },
  MeshTrust: {
    summary:
      'CA certificates the mesh trusts for one trust domain. Zones publish one per MeshIdentity (labelled with their zone); others are applied on global.',
    fields: { spec: ref('MeshTrustSpec'), status: ref('IdentityStatus') },
    required: ['spec'],
    wrapped: true,
    example: {
      type: 'MeshTrust',
      name: 'default',
      mesh: 'default',
      spec: {
        trustDomain: 'default.east.mesh.local',
        caBundles: [{ type: 'Pem', pem: { value: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' } }],
      },
    },
  },
  MeshTLS: {
    summary: 'Inbound TLS mode (Strict or Permissive), versions and ciphers, per Mesh or per Dataplane labels.',
    fields: { spec: ref('MeshTlsSpec') },
    required: ['spec'],
    wrapped: true,
    example: {
      type: 'MeshTLS',
      name: 'default',
      mesh: 'default',
      spec: { targetRef: { kind: 'Mesh' }, rules: [{ default: { mode: 'Strict' } }] },
    },
  },
  MeshInsight: {
    summary: "What a mesh's dataplanes hold and trust, in every zone; computed by global (named after the mesh) and sent to zones.",
    fields: { dataplanes: { type: 'object', additionalProperties: true }, mTLS: { type: 'object', additionalProperties: true } },
    open: true,
    example: { type: 'MeshInsight', name: 'default' },
  },
  Zone: {
    summary: 'A zone control plane that may connect.',
    fields: { enabled: { type: 'boolean', nullable: true } },
    open: true,
    example: { type: 'Zone', name: 'default', enabled: true },
  },
  Dataplane: {
    summary: 'A dataplane, reported by its zone.',
    fields: { networking: ref('DataplaneNetworking') },
    required: ['networking'],
    open: true,
    example: {
      type: 'Dataplane',
      name: 'default',
      mesh: 'default',
      networking: { address: '10.0.0.1', inbound: [{ port: 8080, tags: { 'kuma.io/service': 'web' } }] },
    },
  },
  DataplaneInsight: {
    summary: "A dataplane's certificate state, reported by its zone (free-form).",
    fields: {},
    open: true,
    example: { type: 'DataplaneInsight', name: 'default', mesh: 'default' },
  },
  ZoneInsight: {
    summary: "A zone's health as the zone reports it (free-form).",
    fields: {},
    open: true,
    example: { type: 'ZoneInsight', name: 'default' },
  },
};

function resourceSchemas(kind: ApiKind): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const route of ROUTES) {
    const type = route.type;
    const doc = TYPE_DOCS[type];
    const scoped = MESH_SCOPED.has(type);
    const base: Record<string, Json> = {
      type: { type: 'string', enum: [type] },
      name: ref('Name'),
      ...(scoped ? { mesh: ref('Name') } : {}),
      labels: ref('Labels'),
    };
    out[type] = {
      type: 'object',
      description: doc.summary,
      required: ['type', 'name', ...(scoped ? ['mesh'] : []), 'labels', 'creationTime', 'modificationTime', ...(doc.required ?? [])],
      properties: {
        ...base,
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        creationTime: { type: 'string', format: 'date-time' },
        modificationTime: { type: 'string', format: 'date-time' },
        ...doc.fields,
      },
      additionalProperties: doc.open === true,
    };
    out[`${type}Input`] = {
      type: 'object',
      description:
        `${doc.summary} The path and the body must name the same resource. The Kubernetes form ` +
        '(`apiVersion: kuma.io/v1alpha1`, `kind`, `metadata`, `spec`; Secrets as `v1` `Secret`) is accepted too.' +
        (doc.wrapped === true ? ' The fields go under `spec:`.' : ' The fields may also be given under `spec:`.') +
        ' `creationTime` and `modificationTime` are ignored.',
      required: ['type', 'name', ...(scoped ? ['mesh'] : []), ...(doc.required ?? [])],
      properties: {
        ...base,
        creationTime: { type: 'string' },
        modificationTime: { type: 'string' },
        ...doc.fields,
      },
      additionalProperties: doc.open === true,
      example: doc.example,
    };
    out[`${type}List`] = {
      allOf: [ref('ResourceList'), { type: 'object', properties: { items: { type: 'array', items: ref(type) } } }],
    };
  }
  // Global answers its Zones with what the sync stream knows of each: a zone that connected once
  // is listed even when nobody applied a Zone for it (then it has no times).
  if (kind === 'global') {
    out.ZoneWithStatus = {
      type: 'object',
      description: 'A Zone with its `status` from the sync stream. A zone that connected but was never applied has no times.',
      required: ['type', 'name', 'labels', 'status'],
      additionalProperties: true,
      properties: {
        type: { type: 'string', enum: ['Zone'] },
        name: ref('Name'),
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        creationTime: { type: 'string', format: 'date-time' },
        modificationTime: { type: 'string', format: 'date-time' },
        enabled: { type: 'boolean', nullable: true },
        status: ref('ZoneStatus'),
      },
    };
    out.ZoneWithStatusList = {
      allOf: [ref('ResourceList'), { type: 'object', properties: { items: { type: 'array', items: ref('ZoneWithStatus') } } }],
    };
  }
  return out;
}

function identitySchemas(): Record<string, Json> {
  const open = { type: 'object', additionalProperties: true };
  const dataSource = {
    type: 'object',
    required: ['type'],
    properties: {
      type: { type: 'string', enum: ['Secret', 'File', 'EnvVar', 'InsecureInline'] },
      secretRef: { type: 'object', properties: { kind: { type: 'string', enum: ['Secret'] }, name: { type: 'string' } } },
      file: { type: 'object', properties: { path: { type: 'string' } } },
      envVar: { type: 'object', properties: { name: { type: 'string' } } },
      insecureInline: { type: 'object', properties: { value: { type: 'string' } } },
    },
  };
  const tlsConf = {
    type: 'object',
    properties: {
      mode: { type: 'string', enum: ['Strict', 'Permissive'] },
      tlsVersion: { type: 'object', properties: { min: { type: 'string' }, max: { type: 'string' } } },
      tlsCiphers: { type: 'array', items: { type: 'string' } },
    },
  };
  return {
    MeshIdentitySpec: {
      type: 'object',
      properties: {
        selector: {
          type: 'object',
          properties: {
            dataplane: { type: 'object', properties: { matchLabels: { type: 'object', additionalProperties: { type: 'string' } } } },
          },
        },
        spiffeID: { type: 'object', properties: { trustDomain: { type: 'string' }, path: { type: 'string' } } },
        provider: {
          type: 'object',
          required: ['type'],
          properties: {
            type: { type: 'string', enum: ['Bundled', 'Spire', 'Extension'] },
            bundled: {
              type: 'object',
              properties: {
                meshTrustCreation: { type: 'string', enum: ['Enabled', 'Disabled'] },
                insecureAllowSelfSigned: { type: 'boolean' },
                autogenerate: { type: 'object', properties: { enabled: { type: 'boolean' } } },
                ca: { type: 'object', properties: { certificate: dataSource, privateKey: dataSource } },
                certificateParameters: { type: 'object', properties: { expiry: { type: 'string' } } },
              },
            },
            spire: open,
            extension: open,
          },
        },
      },
    },
    MeshTrustSpec: {
      type: 'object',
      properties: {
        trustDomain: { type: 'string' },
        caBundles: {
          type: 'array',
          items: {
            type: 'object',
            properties: { type: { type: 'string', enum: ['Pem'] }, pem: { type: 'object', properties: { value: { type: 'string' } } } },
          },
        },
        origin: open,
      },
    },
    MeshTlsSpec: {
      type: 'object',
      properties: {
        targetRef: open,
        rules: { type: 'array', items: { type: 'object', properties: { default: tlsConf } } },
        from: { type: 'array', items: { type: 'object', properties: { targetRef: open, default: tlsConf } } },
      },
    },
    IdentityStatus: {
      type: 'object',
      description: 'Read-only: computed on read (conditions as Kuma writes them; per zone where zones differ). Ignored on apply.',
      additionalProperties: true,
    },
  };
}

function globalOnlySchemas(): Record<string, Json> {
  const time = { type: 'string', format: 'date-time' };
  return {
    ZoneStatus: {
      type: 'object',
      required: ['online'],
      description: "What global knows of the zone's sync stream; only `online` when it never connected.",
      properties: {
        online: { type: 'boolean' },
        leader: { type: 'string', description: "The zone replica that holds the stream, from the zone's ZoneInsight." },
        replica: { type: 'string', description: 'The global replica the zone streams to (global replicas on one Redis).' },
        connectedAt: time,
        disconnectedAt: time,
        lastSeen: time,
        remoteAddress: { type: 'string' },
        software: { type: 'object', required: ['name', 'version'], properties: { name: { type: 'string' }, version: { type: 'string' } } },
        ackedRevision: { type: 'integer', description: 'Newest global revision the zone ACKed.' },
        sentRevision: { type: 'integer' },
        inFlight: { type: 'integer' },
        bufferedBytes: { type: 'integer' },
        snapshotsSent: { type: 'integer' },
        deltasSent: { type: 'integer' },
        nacks: { type: 'array', items: ref('ZoneNack'), description: 'Global versions the zone refused, newest last.' },
        refused: { type: 'array', items: ref('ZoneNack'), description: 'Zone versions global refused, newest last.' },
        lastDisconnect: { type: 'string' },
      },
    },
    ZoneTokenRequest: {
      type: 'object',
      required: ['zone'],
      example: { zone: 'east', validFor: '8760h' },
      properties: {
        zone: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$', description: 'The zone the token lets in (a DNS label).' },
        validFor: { allOf: [ref('Duration')], description: 'How long the token is valid: default 8760h, at least 1s, at most 10y.' },
      },
    },
    DataplaneTokenRequest: {
      type: 'object',
      required: ['mesh', 'name'],
      example: { mesh: 'default', name: 'web-1', tags: { 'kuma.io/service': ['web'] }, validFor: '24h' },
      properties: {
        mesh: ref('Name'),
        name: ref('Name'),
        workload: {
          type: 'string',
          nullable: true,
          pattern: '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$',
          description: 'The kuma.io/workload label the dataplane must carry (set on it when it has none), as kumactl --workload.',
        },
        tags: {
          type: 'object',
          nullable: true,
          description:
            'Tags the dataplane may claim, as Kuma sends them (`{"kuma.io/service": ["web"]}`): at most 32, one value per tag, ' +
            'names and values of 1 to 253 printable ASCII characters.',
          maxProperties: 32,
          additionalProperties: { type: 'array', items: { type: 'string', pattern: '^[ -~]{1,253}$' }, minItems: 1, maxItems: 1 },
        },
        validFor: { allOf: [ref('Duration')], description: 'How long the token is valid: default 24h, at least 1s, at most 10y.' },
      },
    },
    RevokeTokenRequest: {
      type: 'object',
      description:
        'The token to revoke, or its `jti`. Only what this control plane signed can be revoked: a token must verify with its keys ' +
        '(an expired one is refused already: 400), a jti must be shaped as the ones it hands out.',
      anyOf: [{ required: ['token'] }, { required: ['jti'] }],
      properties: {
        token: { type: 'string', minLength: 1, maxLength: 8192, description: 'A zone or dataplane token issued by this global.' },
        jti: {
          type: 'string',
          pattern: '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$',
          description: 'The id of the token (its jti claim, a UUID); used when both are given.',
        },
      },
    },
    Revoked: {
      type: 'object',
      required: ['revoked'],
      additionalProperties: false,
      properties: { revoked: { type: 'string', description: 'The jti now refused.' } },
    },
    SigningKey: {
      type: 'object',
      required: ['kid', 'createdAt', 'revoked', 'signing'],
      additionalProperties: false,
      description: 'A token signing key (Ed25519); the private part never leaves global.',
      properties: {
        kid: { type: 'string' },
        createdAt: time,
        revoked: { type: 'boolean' },
        signing: { type: 'boolean', description: 'The key that signs new tokens (the newest not revoked).' },
      },
    },
    SigningKeyList: {
      type: 'object',
      required: ['items'],
      additionalProperties: false,
      properties: { items: { type: 'array', items: ref('SigningKey') } },
    },
    RevokeSigningKeyRequest: {
      type: 'object',
      required: ['kid'],
      properties: { kid: { type: 'string', minLength: 1 } },
    },
    Token: { type: 'string', description: 'A signed JWT (EdDSA).', pattern: '^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$' },
  };
}

function zoneOnlySchemas(): Record<string, Json> {
  const time = { type: 'string', format: 'date-time' };
  return {
    ZoneApiStatus: {
      type: 'object',
      required: ['zone', 'global', 'store', 'version', 'replica', 'kds'],
      properties: {
        zone: ref('Name'),
        global: { type: 'string', description: "Global's sync URL (wss://HOST:5685/kds)." },
        store: { type: 'string' },
        version: { type: 'string' },
        replica: { type: 'string', description: "This process's id among the zone's replicas (host name, pid, random part)." },
        leader: {
          type: 'object',
          description:
            'The replica that holds the KDS stream, as this one last saw it (replicas share a Redis store; a zone on the memory store leads alone).',
          required: ['replica', 'me'],
          properties: { replica: { type: 'string' }, me: { type: 'boolean' } },
        },
        kds: {
          type: 'object',
          required: ['connected', 'lastRevision', 'failures', 'nacks', 'refused'],
          properties: {
            connected: { type: 'boolean' },
            connectedAt: time,
            lastRevision: { type: 'integer', description: 'Last global revision applied to the local store.' },
            lastError: { type: 'string' },
            lastErrorAt: time,
            failures: { type: 'integer', description: 'Failed attempts since the last successful handshake.' },
            globalApiPort: {
              type: 'integer',
              description: "Global's API port, as global announced it on the sync stream (named in the 405 answers).",
            },
            nacks: { type: 'array', items: ref('ZoneNack') },
            refused: { type: 'array', items: ref('ZoneNack') },
            divergence: {
              type: 'object',
              description: 'Global came back with other data than this zone holds; the zone keeps its own.',
              required: ['globalEpoch', 'heldEpoch', 'missing', 'since'],
              properties: {
                globalEpoch: { type: 'string' },
                heldEpoch: { type: 'string' },
                missing: { type: 'array', items: { type: 'string' } },
                since: time,
              },
            },
          },
        },
      },
    },
  };
}

// ---------------------------------------------------------------- parameters and responses

function parameters(): Record<string, Json> {
  return {
    name: { name: 'name', in: 'path', required: true, description: 'The resource name.', schema: ref('Name'), example: 'default' },
    mesh: { name: 'mesh', in: 'path', required: true, description: 'The mesh name.', schema: ref('Name'), example: 'default' },
    size: {
      name: 'size',
      in: 'query',
      required: false,
      description: 'Page size, 1 to 1000 (default 100).',
      schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    },
    offset: {
      name: 'offset',
      in: 'query',
      required: false,
      description: 'How many items to skip (default 0).',
      schema: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, default: 0 },
    },
    dryRun: {
      name: 'dryRun',
      in: 'query',
      required: false,
      description: '`true` runs every check (the CA checks too) and stores nothing.',
      schema: { type: 'string', enum: ['true', 'false'] },
    },
    forceRotation: {
      name: 'forceRotation',
      in: 'query',
      required: false,
      description: '`true` skips the CA rotation validators for this apply (logged); the label `meshca.io/force-rotation` does the same.',
      schema: { type: 'string', enum: ['true', 'false'] },
    },
    ifMatch: {
      name: 'If-Match',
      in: 'header',
      required: false,
      description:
        'The version of the resource this write expects (a number, optionally quoted or `W/`-prefixed). A stale version answers 409; ' +
        'a resource that does not exist answers 412. Nothing is written in either case.',
      schema: { type: 'string', pattern: '^(W/)?"?[0-9]{1,15}"?$' },
    },
  };
}

function errorResponse(description: string, headers?: Json): Json {
  return { description, ...(headers ? { headers } : {}), content: { 'application/json': { schema: ref('Error') } } };
}

function responses(): Record<string, Json> {
  return {
    BadRequest: errorResponse(
      'Invalid input: a field (every failing field path is in `causes`, with what to do), a query parameter, a header, a path that is not valid ' +
        'percent-encoding (e.g. `/meshes/%ff`), a body that is not JSON, has a duplicate key or is nested too deep, or a path and body naming different resources.',
    ),
    Unauthorized: errorResponse('No admin token: send `Authorization: Bearer <token>` (the token is in `<data-dir>/admin-token`).'),
    Forbidden: errorResponse(
      'The admin token presented is not valid for this control plane, or the resource is written by the control plane only ' +
        '(the GlobalSecret `meshca-token-verification`, the builtin CA Secrets `<mesh>.ca-builtin-*`).',
    ),
    NotFound: errorResponse('No such resource.'),
    MethodNotAllowed: errorResponse(
      'Not writable here: a type written by zones only, or any write on a zone (apply it on the global control plane).',
    ),
    Conflict: errorResponse('A conflict: a stale `If-Match` version, or a Secret still referenced by a Mesh (named in the answer).'),
    NoSigningKey: errorResponse(
      'Every token signing key is revoked: add one first (POST /tokens/signing-keys/rotate, `meshctl rotate signing-key`).',
    ),
    PreconditionFailed: errorResponse('`If-Match` was given for a resource that does not exist; nothing was written.'),
    PayloadTooLarge: errorResponse(
      'The body is larger than the route allows: 256 KiB for a Mesh and the other resources, 1 MiB for a Secret or GlobalSecret, 64 KiB for other bodies.',
    ),
    UnsupportedMediaType: errorResponse('The body is not `application/json` in UTF-8, or has a `Content-Encoding` other than identity.'),
    StoreUnavailable: errorResponse(
      'The store does not answer; nothing was written. Retry after the time in `Retry-After` (GET /readyz says when it is back).',
      {
        'Retry-After': { description: 'Seconds to wait before retrying.', required: true, schema: { type: 'integer', minimum: 0 } },
      },
    ),
  };
}

// ---------------------------------------------------------------- operations

const ADMIN = [{ adminToken: [] }];
/** Open from localhost (127.0.0.1, ::1); the admin token from anywhere else. */
const READ = [{}, { adminToken: [] }];
const NONE: Json[] = [];

const openApiPath = (express: string): string => express.replace(/:(\w+)/g, '{$1}');

function json(schema: Json, description: string): Json {
  return { description, content: { 'application/json': { schema } } };
}

function errors(...names: string[]): Record<string, Json> {
  const codes: Record<string, string> = {
    BadRequest: '400',
    Unauthorized: '401',
    Forbidden: '403',
    NotFound: '404',
    MethodNotAllowed: '405',
    Conflict: '409',
    NoSigningKey: '409',
    PreconditionFailed: '412',
    PayloadTooLarge: '413',
    UnsupportedMediaType: '415',
    StoreUnavailable: '503',
  };
  return Object.fromEntries(names.map((n) => [codes[n]!, response(n)]));
}

function pathParams(path: string): Json[] {
  return [...path.matchAll(/:(\w+)/g)].map((m) => param(m[1]!));
}

/** 401 without a token, 403 with a wrong one: wherever a token can be required (reads: from outside localhost). */
function authErrors(security: Json[]): string[] {
  return security === NONE ? [] : ['Unauthorized', 'Forbidden'];
}

function opId(verb: string, type: ResourceType, suffix = ''): string {
  return `${verb}${type}${suffix}`;
}

type Paths = Record<string, Record<string, Json>>;

function add(paths: Paths, path: string, method: string, op: Json): void {
  const p = openApiPath(path);
  paths[p] ??= {};
  paths[p][method] = op;
}

function resourcePaths(kind: ApiKind, paths: Paths): void {
  for (const route of ROUTES) {
    const type = route.type;
    const readSecurity = route.sensitive === true ? ADMIN : READ;
    const readNote =
      route.sensitive === true
        ? 'Needs the admin token from everywhere.'
        : 'Open from localhost (127.0.0.1, ::1); needs the admin token from anywhere else.';
    const zonesOfGlobal = kind === 'global' && type === 'Zone';
    const listSchema = zonesOfGlobal ? ref('ZoneWithStatusList') : ref(`${type}List`);
    const itemSchema = zonesOfGlobal ? ref('ZoneWithStatus') : ref(type);
    const storeErrors = ['StoreUnavailable'];
    const listParams = zonesOfGlobal ? [] : [param('size'), param('offset')];

    const list = (path: string, scope: string, id: string): void => {
      add(paths, path, 'get', {
        operationId: id,
        tags: [type],
        summary: `List ${type} resources ${scope}`,
        description:
          (zonesOfGlobal
            ? 'Every Zone resource and every zone that connected, each with its sync `status`; one page (`next` is null). '
            : 'One page, ordered by mesh and name. ') + readNote,
        security: readSecurity,
        parameters: [...pathParams(path), ...listParams],
        responses: {
          200: json(listSchema, 'One page.'),
          ...errors('BadRequest', ...authErrors(readSecurity), ...storeErrors),
        },
      });
    };
    list(route.collection, route.collection.includes(':mesh') ? 'of one mesh' : '', opId('list', type));
    if (route.all !== undefined) list(route.all, 'of every mesh', opId('list', type, 'AllMeshes'));

    const links = (verb: 'get' | 'put' | 'delete'): Json => {
      const parameters: Json = { name: '$request.path.name' };
      if (route.item.includes(':mesh')) parameters.mesh = '$request.path.mesh';
      return { operationId: opId(verb, type), parameters };
    };

    add(paths, route.item, 'get', {
      operationId: opId('get', type),
      tags: [type],
      summary: `Read one ${type}`,
      description: readNote,
      security: readSecurity,
      parameters: pathParams(route.item),
      responses: {
        200: json(itemSchema, `The ${type}.`),
        ...errors('BadRequest', ...authErrors(readSecurity), 'NotFound', ...storeErrors),
      },
    });

    if (kind === 'zone') {
      for (const method of ['put', 'delete'] as const) {
        add(paths, route.item, method, {
          operationId: opId(method, type),
          tags: [type],
          summary: `${method === 'put' ? 'Create or update' : 'Delete'} a ${type}: refused, the zone is read-only`,
          description:
            'The zone serves what it received from global and accepts no write: every write answers 405 with where to apply it ' +
            '("apply this on the global control plane: meshctl --address ... apply -f ..."), before any token check and without reading a body.',
          security: READ,
          parameters: pathParams(route.item),
          responses: errors('BadRequest', 'MethodNotAllowed'),
        });
      }
      continue;
    }

    const writable = route.writtenBy === undefined;
    const limit = type === 'Secret' || type === 'GlobalSecret' ? '1 MiB' : '256 KiB';
    add(paths, route.item, 'put', {
      operationId: opId('put', type),
      tags: [type],
      summary: `Create or update a ${type}`,
      description: writable
        ? `Needs the admin token. Answers 201 when it created, 200 when it updated, with the stored resource; ` +
          `with \`dryRun=true\` it stores nothing and answers the resource as stored now (an empty object when there is none). ` +
          `The body is at most ${limit}.` +
          (type === 'Mesh'
            ? ' A Mesh apply checks every field, that every referenced secret exists, and that each new or changed backend can serve; builtin backends without a CA get one, written with the Mesh in one commit.'
            : '') +
          (type === 'Secret' ? ' The mesh must exist.' : '')
        : `${type} resources are reported by zone control planes through the sync stream: a write answers 405 (after the token check).`,
      security: ADMIN,
      parameters: [
        ...pathParams(route.item),
        ...(writable ? [param('dryRun'), param('ifMatch'), ...(type === 'Mesh' ? [param('forceRotation')] : [])] : []),
      ],
      requestBody: { required: true, content: { 'application/json': { schema: ref(`${type}Input`) } } },
      responses: writable
        ? {
            200: {
              ...json({ anyOf: [ref(type), ref('Empty')] }, 'Updated (or, with dryRun, checked).'),
              links: { get: links('get'), delete: links('delete') },
            },
            201: {
              ...json({ anyOf: [ref(type), ref('Empty')] }, 'Created (or, with dryRun, would be created).'),
              links: { get: links('get'), delete: links('delete') },
            },
            ...errors(
              'BadRequest',
              'Unauthorized',
              'Forbidden',
              'Conflict',
              'PreconditionFailed',
              'PayloadTooLarge',
              'UnsupportedMediaType',
              'StoreUnavailable',
            ),
          }
        : errors('BadRequest', 'Unauthorized', 'Forbidden', 'MethodNotAllowed', 'PayloadTooLarge', 'UnsupportedMediaType'),
    });

    add(paths, route.item, 'delete', {
      operationId: opId('delete', type),
      tags: [type],
      summary: `Delete a ${type}`,
      description: writable
        ? 'Needs the admin token.' +
          (type === 'Mesh' ? ' Deletes the Secrets of the mesh too.' : '') +
          (type === 'Secret' || type === 'GlobalSecret'
            ? ' A secret a Mesh references is not deleted (409, naming the Mesh and field).'
            : '')
        : `${type} resources are reported by zone control planes through the sync stream: a delete answers 405 (after the token check).`,
      security: ADMIN,
      parameters: pathParams(route.item),
      responses: writable
        ? {
            200: { ...json(ref('Empty'), 'Deleted.'), links: { get: links('get') } },
            ...errors('BadRequest', 'Unauthorized', 'Forbidden', 'NotFound', 'Conflict', 'StoreUnavailable'),
          }
        : errors('BadRequest', 'Unauthorized', 'Forbidden', 'MethodNotAllowed'),
    });
  }
  // Secrets of a mesh need the mesh: a created Mesh links to its secrets.
  if (kind === 'global') {
    const meshPut = paths['/meshes/{name}']!.put!;
    for (const code of ['200', '201']) {
      const r = (meshPut.responses as Record<string, Json>)[code]!;
      (r.links as Json).putSecret = { operationId: 'putSecret', parameters: { mesh: '$request.path.name' } };
      (r.links as Json).listSecrets = { operationId: 'listSecret', parameters: { mesh: '$request.path.name' } };
    }
  }
}

function tokenPaths(paths: Paths): void {
  const text = (description: string): Json => ({ description, content: { 'text/plain': { schema: ref('Token') } } });
  const body = (schema: string): Json => ({ required: true, content: { 'application/json': { schema: ref(schema) } } });
  const bodyErrors = errors('BadRequest', 'Unauthorized', 'Forbidden', 'PayloadTooLarge', 'UnsupportedMediaType');
  add(paths, '/tokens/zone', 'post', {
    operationId: 'issueZoneToken',
    tags: ['Tokens'],
    summary: 'Issue a zone token',
    description: 'The token lets one zone control plane connect to the sync port. Needs the admin token; the body is at most 64 KiB.',
    security: ADMIN,
    requestBody: body('ZoneTokenRequest'),
    responses: { 200: text('The token.'), ...bodyErrors, ...errors('NoSigningKey') },
  });
  add(paths, '/tokens/dataplane', 'post', {
    operationId: 'issueDataplaneToken',
    tags: ['Tokens'],
    summary: 'Issue a dataplane token',
    description:
      'The token lets one dataplane of a mesh get its certificates from its zone. Needs the admin token; the body is at most 64 KiB.',
    security: ADMIN,
    requestBody: body('DataplaneTokenRequest'),
    responses: { 200: text('The token.'), ...bodyErrors, ...errors('NoSigningKey', 'StoreUnavailable') },
  });
  add(paths, '/tokens/revoke', 'post', {
    operationId: 'revokeToken',
    tags: ['Tokens'],
    summary: 'Revoke a token',
    description:
      "Refuses the token from now on and ends what it opened (a zone's sync stream, a dataplane's connection). Needs the admin token; the body is at most 64 KiB.",
    security: ADMIN,
    requestBody: body('RevokeTokenRequest'),
    responses: { 200: json(ref('Revoked'), 'Revoked.'), ...bodyErrors, ...errors('StoreUnavailable') },
  });
  add(paths, '/tokens/signing-keys', 'get', {
    operationId: 'listSigningKeys',
    tags: ['Tokens'],
    summary: 'List the token signing keys',
    description: 'Needs the admin token.',
    security: ADMIN,
    responses: {
      200: {
        ...json(ref('SigningKeyList'), 'The keys, oldest first.'),
        links: { revokeOldest: { operationId: 'revokeSigningKey', requestBody: { kid: '$response.body#/items/0/kid' } } },
      },
      ...errors('Unauthorized', 'Forbidden'),
    },
  });
  add(paths, '/tokens/signing-keys/rotate', 'post', {
    operationId: 'rotateSigningKey',
    tags: ['Tokens'],
    summary: 'Add a signing key',
    description: 'New tokens are signed with it; older keys keep verifying until revoked. Needs the admin token; takes no body.',
    security: ADMIN,
    responses: {
      201: {
        ...json(ref('SigningKey'), 'The new key.'),
        links: { revoke: { operationId: 'revokeSigningKey', requestBody: { kid: '$response.body#/kid' } } },
      },
      ...errors('Unauthorized', 'Forbidden', 'StoreUnavailable'),
    },
  });
  add(paths, '/tokens/signing-keys/revoke', 'post', {
    operationId: 'revokeSigningKey',
    tags: ['Tokens'],
    summary: 'Revoke a signing key',
    description:
      'Every token it signed is refused from now on, and what those tokens opened is ended. Needs the admin token; the body is at most 64 KiB.',
    security: ADMIN,
    requestBody: body('RevokeSigningKeyRequest'),
    responses: {
      200: {
        ...json(ref('SigningKeyList'), 'The keys after the revocation.'),
        // Issuing right after a revocation: with every key revoked, the answer must still be a refusal (409).
        links: { issueZoneToken: { operationId: 'issueZoneToken' }, issueDataplaneToken: { operationId: 'issueDataplaneToken' } },
      },
      ...bodyErrors,
      ...errors('NotFound', 'StoreUnavailable'),
    },
  });
}

function basePaths(kind: ApiKind, paths: Paths): void {
  add(paths, '/', 'get', {
    operationId: 'getInfo',
    tags: ['Control plane'],
    summary: 'What this control plane is',
    security: NONE,
    responses: { 200: json(ref('Info'), 'Product, mode, version and store.') },
  });
  add(paths, '/healthz', 'get', {
    operationId: 'getHealth',
    tags: ['Control plane'],
    summary: 'Liveness',
    security: NONE,
    responses: { 200: json(ref('Health'), 'The process serves requests.') },
  });
  add(paths, '/readyz', 'get', {
    operationId: 'getReadiness',
    tags: ['Control plane'],
    summary: 'Readiness: the store answers',
    security: NONE,
    responses: {
      200: json(ref('Ready'), 'Ready.'),
      503: {
        description: 'The store does not answer.',
        headers: {
          'Retry-After': { description: 'Seconds to wait before asking again.', required: false, schema: { type: 'integer', minimum: 0 } },
        },
        content: { 'application/json': { schema: ref('NotReady') } },
      },
    },
  });
  add(paths, '/openapi.json', 'get', {
    operationId: 'getOpenApi',
    tags: ['Control plane'],
    summary: 'This OpenAPI document',
    security: NONE,
    responses: { 200: json(ref('OpenApiDocument'), `The OpenAPI description of the ${kind} API.`) },
  });
  if (kind === 'zone') {
    add(paths, '/status', 'get', {
      operationId: 'getZoneStatus',
      tags: ['Control plane'],
      summary: "The zone's sync stream to global",
      description:
        'Connected or not, the last revision applied, errors, NACKs and a divergence from global. Open from localhost; needs the zone admin token from anywhere else.',
      security: READ,
      responses: { 200: json(ref('ZoneApiStatus'), 'The status.'), ...errors('Unauthorized', 'Forbidden') },
    });
  }
}

// ---------------------------------------------------------------- document

export function buildOpenApi(kind: ApiKind): Json {
  const paths: Paths = {};
  basePaths(kind, paths);
  resourcePaths(kind, paths);
  if (kind === 'global') tokenPaths(paths);
  guiPaths(paths);
  const sorted = Object.fromEntries(Object.entries(paths).sort(([a], [b]) => a.localeCompare(b)));
  const port = kind === 'global' ? 5681 : 5682;
  return {
    openapi: '3.0.3',
    info: {
      title: kind === 'global' ? 'meshca global control plane API' : 'meshca zone control plane API',
      version: VERSION,
      description:
        kind === 'global'
          ? "The HTTPS API of meshca-global, in Kuma's Universal shape. Every write needs the admin token (`Authorization: Bearer <token>`, " +
            'created in `<data-dir>/admin-token`); reads are open from localhost and need the token from anywhere else; Secrets and GlobalSecrets ' +
            'need the token from everywhere. Lists answer `{total, items, next}` and page with `size` and `offset`. Errors answer ' +
            "`{status, title, detail, causes: [{field, message}]}`; a 5xx is only the server's own failure (503 with Retry-After when the store does not answer)."
          : 'The HTTPS API of meshca-zone: what the zone received from global, read-only (every write answers 405 and says where to apply it), and ' +
            "the zone's sync status. Reads are open from localhost and need the zone's admin token from anywhere else; Secrets and GlobalSecrets need it " +
            'from everywhere. Dataplanes connect by WebSocket upgrade on `/dataplanes`, which is not described here.',
    },
    servers: [{ url: `https://localhost:${port}` }],
    tags: [
      { name: 'Control plane' },
      ...ROUTES.map((r: ResourceRoute) => ({ name: r.type })),
      ...(kind === 'global' ? [{ name: 'Tokens' }] : []),
      { name: 'GUI', description: 'The read-only web GUI at /gui/ and the views it reads.' },
    ],
    paths: sorted,
    components: {
      securitySchemes: {
        adminToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            kind === 'global'
              ? 'The admin token in `<data-dir>/admin-token` of global.'
              : 'The admin token in `<data-dir>/admin-token` of the zone.',
        },
      },
      schemas: schemas(kind),
      parameters: parameters(),
      responses: responses(),
    },
  };
}

export const OPENAPI_DIR = import.meta.dirname;

export function documentText(kind: ApiKind): string {
  return JSON.stringify(buildOpenApi(kind), null, 2) + '\n';
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1]) {
  const check = process.argv.includes('--check');
  let stale = false;
  for (const kind of ['global', 'zone'] as const) {
    const file = join(OPENAPI_DIR, `${kind}.json`);
    const text = documentText(kind);
    if (check) {
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing: stale
      }
      if (current !== text) {
        stale = true;
        console.error(`${file} is out of date: run npx tsx libs/http/openapi/generate.ts`);
      }
    } else {
      writeFileSync(file, text);
      console.log(`wrote ${file}`);
    }
  }
  if (stale) process.exit(1);
}

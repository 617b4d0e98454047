// Resources as global's API answers them (Universal JSON), at fixed times around NOW, for the
// golden-output tests of meshctl's tables.
import type { WorkloadIdentityView } from '../src/commands/inspect-mesh.js';
import type { DataplaneInsightLike, MeshSpec } from '@meshca/api';

type Item = Record<string, unknown>;

/** The clock every table is rendered at. */
export const NOW = Date.parse('2026-06-01T12:00:00Z');
/** The time `seconds` before NOW (negative: after), as the API writes times. */
export const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString();

const meta = (type: string, name: string, created: number, mesh?: string): Item => ({
  type,
  ...(mesh !== undefined ? { mesh } : {}),
  name,
  labels: {},
  creationTime: ago(created),
  modificationTime: ago(created),
});

export const MESHES: Item[] = [
  { ...meta('Mesh', 'default', 30), mtls: { enabledBackend: 'ca-1', backends: [{ name: 'ca-1', type: 'builtin' }] } },
  {
    ...meta('Mesh', 'payments', 45 * 60),
    mtls: {
      enabledBackend: 'ca-2',
      backends: [
        { name: 'ca-1', type: 'builtin' },
        { name: 'ca-2', type: 'provided', conf: { cert: { secret: 'ca-2-cert' }, key: { secret: 'ca-2-key' } } },
      ],
    },
  },
  { ...meta('Mesh', 'legacy', 12 * 86400 + 3600) },
  { ...meta('Mesh', 'vault-mesh', 5 * 3600), mtls: { backends: [{ name: 'vault-1', type: 'vault' }] } },
];

export const SECRETS: Item[] = [
  { ...meta('Secret', 'ca-2-cert', 90, 'payments') },
  { ...meta('Secret', 'ca-2-key', 90, 'payments') },
  { ...meta('Secret', 'default.ca-builtin-cert-ca-1', 30, 'default') },
  { ...meta('Secret', 'default.ca-builtin-key-ca-1', 30, 'default') },
  { ...meta('Secret', 'vault-token', 3 * 86400, 'vault-mesh') },
];

export const ZONES: Item[] = [
  {
    ...meta('Zone', 'zone-1', 2 * 86400),
    status: { online: true, lastSeen: ago(4), ackedRevision: 12, nacks: [], leader: 'cp-1-4711-9f2c' },
  },
  {
    ...meta('Zone', 'zone-2', 2 * 86400),
    status: {
      online: true,
      lastSeen: ago(1),
      ackedRevision: 11,
      nacks: [{ revision: 12, reason: 'backend "ca-3" type "acmpca" not supported', at: ago(60) }],
    },
  },
  { ...meta('Zone', 'zone-3', 7 * 86400), status: { online: false, lastSeen: ago(3 * 3600), ackedRevision: 9 } },
  { ...meta('Zone', 'zone-new', 10) },
];

const dataplane = (name: string, created: number, mesh: string, address: string, services: string[]): Item => ({
  ...meta('Dataplane', name, created, mesh),
  networking: { address, inbound: services.map((s, i) => ({ port: 8080 + i, tags: { 'kuma.io/service': s } })) },
});

export const DATAPLANES: Item[] = [
  dataplane('zone-1.web-1', 600, 'default', '10.0.1.5', ['web']),
  dataplane('zone-1.web-2', 590, 'default', '10.0.1.6', ['web']),
  dataplane('zone-2.backend-1', 2 * 3600, 'default', '10.0.2.7', ['backend', 'backend-admin']),
  dataplane('zone-2.batch-1', 3 * 86400, 'default', '10.0.2.9', []),
];

const insight = (name: string, zone: string, connected: boolean, mtls: Item): Item & DataplaneInsightLike => ({
  ...meta('DataplaneInsight', name, 600, 'payments'),
  name,
  zone,
  connected,
  connectedAt: ago(600),
  // Zones also report certificateRegenerations, lastCertificateRegeneration and retiredRoots.
  mTLS: { supportedBackends: [], ...mtls },
});

/** A mesh halfway through moving from ca-1 to ca-2, as its zones report it. */
export const INSIGHTS: (Item & DataplaneInsightLike)[] = [
  insight('zone-1.web-1', 'zone-1', true, {
    issuedBackend: 'ca-2',
    certificateSerial: '7f3a9c0e51d24b8aa0c1d2e3f4a5b6c7',
    certificateExpirationTime: ago(-(23 * 3600 + 59 * 60 + 30)),
    supportedBackends: ['ca-1', 'ca-2', 'kri_mtrust_payments_zone-1__workloads_'],
  }),
  insight('zone-1.web-2', 'zone-1', true, {
    issuedBackend: 'ca-1',
    certificateSerial: 'c89074b4d0e1f2a3b4c5d6e7f8091a2b',
    certificateExpirationTime: ago(-(4 * 60 + 10)),
    supportedBackends: ['ca-1', 'ca-2'],
    lastError: { message: 'issuing from backend "ca-2" failed: the zone\'s issuance limit (100/s) is reached; retrying in 2s', at: ago(5) },
  }),
  insight('zone-2.backend-1', 'zone-2', true, {
    issuedBackend: 'ca-1',
    certificateSerial: '0a1b2c3d4e5f60718293a4b5c6d7e8f9',
    certificateExpirationTime: ago(120),
    supportedBackends: ['ca-1'],
  }),
  insight('zone-2.batch-1', 'zone-2', false, {
    issuedBackend: 'ca-1',
    certificateSerial: '11223344556677889900aabbccddeeff',
    certificateExpirationTime: ago(-(89 * 86400 + 23 * 3600 + 5)),
    supportedBackends: ['ca-1'],
  }),
  insight('zone-2.new-1', 'zone-2', true, { supportedBackends: ['ca-1', 'ca-2', 'kri_mtrust_payments_zone-1__workloads_'] }),
];

export const PAYMENTS: MeshSpec = MESHES[1] as MeshSpec;

/** A mesh half-way through a move to MeshIdentity: zone-1 runs it, zone-2's is not ready. */
export const IDENTITY_VIEW: WorkloadIdentityView = {
  identities: [
    {
      name: 'workloads',
      status: {
        zones: [
          {
            zone: 'zone-1',
            kri: 'kri_mid_payments_zone-1__workloads_',
            trustDomain: 'payments.zone-1.mesh.local',
            dataplanes: 1,
            conditions: [{ type: 'Ready', status: 'True', reason: 'Ready' }],
          },
          {
            zone: 'zone-2',
            kri: 'kri_mid_payments_zone-2__workloads_',
            trustDomain: 'payments.zone-2.mesh.local',
            dataplanes: 0,
            conditions: [{ type: 'Ready', status: 'False', reason: 'Failure' }],
          },
        ],
      },
    },
  ],
  trusts: [
    {
      name: 'zone-1.workloads',
      labels: { 'kuma.io/zone': 'zone-1', 'kuma.io/display-name': 'workloads' },
      spec: { trustDomain: 'payments.zone-1.mesh.local', caBundles: [{ type: 'Pem', pem: { value: '-' } }] },
    },
  ],
  insight: {
    dataplanes: { total: 5, online: 4 },
    mTLS: {
      issuedBackends: {},
      trustedEverywhere: [],
      pending: '1 dataplane does not hold every MeshTrust in its bundle yet (zone "zone-2": backend-1)',
    },
  },
};

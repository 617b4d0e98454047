// validateResource: every rule of every type, as a list of field errors (empty when valid).
import { bool, mapping, text } from './checks.js';
import { isBase64 } from './datasource.js';
import type { FieldError } from './errors.js';
import { at, atKey, describe, isRecord, type Obj } from './fields.js';
import { nameProblem } from './names.js';
import { MESH_SCOPED, RESOURCE_TYPES, type ResourceInput, type ResourceType } from './types.js';
import { validateMeshSpec } from './validate-mesh.js';
import { validateMeshIdentitySpec } from './workload-identity/meshidentity.js';
import { validateMeshTlsSpec } from './workload-identity/meshtls.js';
import { validateMeshTrustSpec } from './workload-identity/meshtrust.js';

const SERVICE_TAG = 'kuma.io/service';

function secretSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  mapping(spec, '', ['data'], errors, 'a secret (it holds one field, data)');
  const data = text(spec.data, 'data', errors, 'put the secret, base64-encoded, in data');
  if (data !== undefined && !isBase64(data)) {
    errors.push({ field: 'data', message: 'is not valid base64; encode the secret with base64 (e.g. `base64 -w0 file`)' });
  }
  return errors;
}

function port(v: unknown, path: string, errors: FieldError[], required: boolean): void {
  if (v === undefined || v === null) {
    if (required) errors.push({ field: path, message: 'required; give the port the service listens on (1-65535)' });
    return;
  }
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 65535) {
    errors.push({ field: path, message: `must be a port number from 1 to 65535 (got ${describe(v, path)})` });
  }
}

function dataplaneSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  if (!isRecord(spec.networking)) {
    errors.push({
      field: 'networking',
      message: 'required; set networking.address and networking.inbound (or networking.gateway for a gateway)',
    });
    return errors;
  }
  const net = spec.networking;
  text(net.address, 'networking.address', errors, 'give the address (IP or hostname) other dataplanes reach this one at');
  if (net.gateway !== undefined) {
    gatewaySpec(net, errors);
    return errors;
  }
  if (!Array.isArray(net.inbound) || net.inbound.length === 0) {
    errors.push({
      field: 'networking.inbound',
      message:
        'required; list at least one inbound with port and tags (including kuma.io/service), or set networking.gateway for a gateway',
    });
    return errors;
  }
  net.inbound.forEach((inb: unknown, i) => {
    const path = `networking.inbound[${i}]`;
    if (!isRecord(inb)) {
      errors.push({ field: path, message: `must be a mapping with port and tags (got ${describe(inb, path)})` });
      return;
    }
    port(inb.port, at(path, 'port'), errors, true);
    port(inb.servicePort, at(path, 'servicePort'), errors, false);
    text(inb.address, at(path, 'address'), errors);
    serviceTags(inb.tags, at(path, 'tags'), 'name the service this inbound serves', errors);
  });
  return errors;
}

/**
 * A gateway Dataplane, as Kuma has them: a DELEGATED one (default; an API gateway such as Kong in
 * front of the mesh, with outbounds) or a BUILTIN one; no inbounds, its service in gateway.tags.
 */
function gatewaySpec(net: Obj, errors: FieldError[]): void {
  const gw = net.gateway;
  if (!isRecord(gw)) {
    errors.push({
      field: 'networking.gateway',
      message: `must be a mapping with type (DELEGATED or BUILTIN) and tags (got ${describe(gw, 'networking.gateway')})`,
    });
    return;
  }
  if (gw.type !== undefined && gw.type !== 'DELEGATED' && gw.type !== 'BUILTIN') {
    errors.push({
      field: 'networking.gateway.type',
      message: `must be DELEGATED or BUILTIN (got ${describe(gw.type, 'networking.gateway.type')})`,
    });
  }
  const kind = gw.type === 'BUILTIN' ? 'builtin' : 'delegated';
  serviceTags(gw.tags, 'networking.gateway.tags', 'name the service of the gateway', errors);
  if (Array.isArray(net.inbound) && net.inbound.length > 0) {
    errors.push({
      field: 'networking.inbound',
      message: `cannot be defined for ${kind} gateways; remove it (a gateway's service is in networking.gateway.tags)`,
    });
  }
  if (kind === 'builtin' && Array.isArray(net.outbound) && net.outbound.length > 0) {
    errors.push({
      field: 'networking.outbound',
      message: 'cannot be defined for builtin gateways; remove it (routes come from MeshGateway and its routes)',
    });
  }
}

function serviceTags(tags: unknown, path: string, what: string, errors: FieldError[]): void {
  if (!isRecord(tags)) {
    errors.push({ field: path, message: `required; give tags with ${SERVICE_TAG}, the name of the service` });
    return;
  }
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== 'string') errors.push({ field: atKey(path, k), message: `tag values are text; quote it ("${String(v)}")` });
  }
  const service = tags[SERVICE_TAG];
  if (typeof service !== 'string' || service === '') errors.push({ field: atKey(path, SERVICE_TAG), message: `required; ${what}` });
}

function zoneSpec(spec: Obj): FieldError[] {
  const errors: FieldError[] = [];
  bool(spec.enabled, 'enabled', errors);
  return errors;
}

const SPEC_RULES: Record<ResourceType, (spec: Obj) => FieldError[]> = {
  Mesh: validateMeshSpec,
  Secret: secretSpec,
  GlobalSecret: secretSpec,
  Zone: zoneSpec,
  Dataplane: dataplaneSpec,
  ZoneInsight: () => [],
  MeshIdentity: validateMeshIdentitySpec,
  DataplaneInsight: () => [],
  MeshTrust: validateMeshTrustSpec,
  MeshTLS: validateMeshTlsSpec,
  MeshInsight: () => [],
};

/** Every problem with `input`, each with its field path and what to do; empty when valid. */
export function validateResource(input: ResourceInput): FieldError[] {
  const errors: FieldError[] = [];
  const { type, name, mesh } = input.meta;
  if (!(RESOURCE_TYPES as readonly string[]).includes(type)) {
    return [{ field: 'type', message: `must be one of ${RESOURCE_TYPES.join(', ')} (got ${describe(type, 'type')})` }];
  }
  const nameIssue = nameProblem(name);
  if (nameIssue) errors.push({ field: 'name', message: nameIssue });
  if (MESH_SCOPED.has(type)) {
    const meshIssue = nameProblem(mesh ?? '');
    if (meshIssue) errors.push({ field: 'mesh', message: mesh ? meshIssue : `required for a ${type}; set the name of its mesh` });
  } else if (mesh !== undefined) {
    errors.push({ field: 'mesh', message: `a ${type} does not belong to a mesh; remove mesh` });
  }
  for (const [k, v] of Object.entries(input.meta.labels ?? {})) {
    if (typeof v !== 'string') errors.push({ field: atKey('labels', k), message: 'label values are text; quote it' });
  }
  if (!isRecord(input.spec)) return [...errors, { field: 'spec', message: `must be a mapping (got ${describe(input.spec, 'spec')})` }];
  return [...errors, ...SPEC_RULES[type](input.spec)];
}

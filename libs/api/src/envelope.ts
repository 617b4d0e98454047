// One decoded document -> ResourceInput, in either form:
//   Universal:  type, name, mesh, labels, then the fields (or, as seed 002 writes it, under spec:)
//   Kubernetes: apiVersion kuma.io/v1alpha1, kind, metadata.{name,labels}, spec
//               (mesh of mesh-scoped kinds from the kuma.io/mesh label, "default" when absent, as Kuma does);
//               Secrets as apiVersion v1, kind Secret, type system.kuma.io/secret | system.kuma.io/global-secret.
import type { FieldError } from './errors.js';
import { at, checkKnownKeys, describe, isRecord, type Obj } from './fields.js';
import { normalizeMeshSpec } from './normalize-mesh.js';
import { normalizeMeshIdentitySpec } from './workload-identity/meshidentity.js';
import { MESH_SCOPED, RESOURCE_TYPES, type ResourceInput, type ResourceType } from './types.js';

export const KUMA_API_VERSION = 'kuma.io/v1alpha1';
export const MESH_LABEL = 'kuma.io/mesh';
export const DEFAULT_MESH = 'default';
/** Kubernetes annotations under this prefix are read as labels: they carry meshca directives. */
export const MESHCA_ANNOTATION_PREFIX = 'meshca.io/';
export const K8S_SECRET_TYPES: Record<string, ResourceType> = {
  'system.kuma.io/secret': 'Secret',
  'system.kuma.io/global-secret': 'GlobalSecret',
};
/** Types whose Universal form keeps its fields under `spec:` (Kuma's newer policy style). */
export const SPEC_WRAPPED: ReadonlySet<ResourceType> = new Set<ResourceType>(['MeshIdentity', 'MeshTrust', 'MeshTLS']);
/** Types with a read-only status (computed by the control plane; dropped from input). */
export const WITH_STATUS: ReadonlySet<ResourceType> = new Set<ResourceType>(['MeshIdentity', 'MeshTrust']);
const UNIVERSAL_META = ['type', 'name', 'mesh', 'labels', 'creationTime', 'modificationTime'];
/** Read-only fields of a SPEC_WRAPPED type as `get` prints them: applying the output back drops them. */
const UNIVERSAL_READ_ONLY = ['status', 'kri'];
const KUBE_KINDS = RESOURCE_TYPES.filter((t) => t !== 'Secret' && t !== 'GlobalSecret');
const TYPES_TEXT = RESOURCE_TYPES.join(', ');

interface Parsed {
  input?: ResourceInput;
  errors: FieldError[];
}

function readLabels(v: unknown, path: string, errors: FieldError[]): Record<string, string> {
  if (v === undefined || v === null) return {};
  if (!isRecord(v)) {
    errors.push({ field: path, message: `must be a mapping of label names to text (got ${describe(v, path)})` });
    return {};
  }
  const labels: Record<string, string> = {};
  for (const [k, value] of Object.entries(v)) {
    if (typeof value === 'string') labels[k] = value;
    else errors.push({ field: at(path, k), message: `label values are text; quote it ("${String(value)}")` });
  }
  return labels;
}

function readName(v: unknown, path: string, errors: FieldError[]): string {
  if (typeof v === 'string' && v !== '') return v;
  errors.push({
    field: path,
    message: v === undefined ? 'required; give the resource a name' : `must be non-empty text (got ${describe(v, path)})`,
  });
  return '';
}

function finish(
  type: ResourceType,
  name: string,
  mesh: string | undefined,
  labels: Record<string, string>,
  spec: Obj,
  errors: FieldError[],
): Parsed {
  const body = type === 'Mesh' ? normalizeMeshSpec(spec, errors) : type === 'MeshIdentity' ? normalizeMeshIdentitySpec(spec, errors) : spec;
  if (errors.length > 0) return { errors };
  const meta = MESH_SCOPED.has(type) ? { type, name, mesh: mesh ?? '', labels } : { type, name, labels };
  return { input: { meta, spec: body }, errors };
}

function fromUniversal(doc: Obj): Parsed {
  const errors: FieldError[] = [];
  const type = doc.type;
  if (typeof type !== 'string' || !(RESOURCE_TYPES as readonly string[]).includes(type)) {
    errors.push({ field: 'type', message: `must be one of ${TYPES_TEXT} (got ${describe(type, 'type')})` });
    return { errors };
  }
  const rtype = type as ResourceType;
  const name = readName(doc.name, 'name', errors);
  let mesh: string | undefined;
  if (MESH_SCOPED.has(rtype)) {
    if (typeof doc.mesh === 'string' && doc.mesh !== '') mesh = doc.mesh;
    else errors.push({ field: 'mesh', message: `required for a ${rtype}; set mesh: to the name of its mesh (e.g. default)` });
  } else if (doc.mesh !== undefined) {
    errors.push({ field: 'mesh', message: `a ${rtype} does not belong to a mesh; remove mesh` });
  }
  const labels = readLabels(doc.labels, 'labels', errors);
  const spec: Obj = {};
  const readOnly = SPEC_WRAPPED.has(rtype) ? UNIVERSAL_READ_ONLY : [];
  for (const [k, v] of Object.entries(doc)) if (!UNIVERSAL_META.includes(k) && !readOnly.includes(k) && k !== 'spec') spec[k] = v;
  if (doc.spec !== undefined) {
    if (!isRecord(doc.spec)) {
      errors.push({ field: 'spec', message: `must be a mapping of the resource's fields (got ${describe(doc.spec, 'spec')})` });
    } else {
      for (const [k, v] of Object.entries(doc.spec)) {
        if (k in spec) errors.push({ field: at('spec', k), message: `${k} is set both at the top level and under spec; keep one` });
        else spec[k] = v;
      }
    }
  }
  return finish(rtype, name, mesh, labels, spec, errors);
}

function kubeMeta(doc: Obj, errors: FieldError[]): { name: string; labels: Record<string, string>; annotations: Obj } {
  if (!isRecord(doc.metadata)) {
    errors.push({ field: 'metadata', message: 'required; add metadata with name (and labels, kuma.io/mesh for mesh-scoped kinds)' });
    return { name: '', labels: {}, annotations: {} };
  }
  const md = doc.metadata;
  return {
    name: readName(md.name, 'metadata.name', errors),
    labels: readLabels(md.labels, 'metadata.labels', errors),
    annotations: isRecord(md.annotations) ? md.annotations : {},
  };
}

function takeMesh(labels: Record<string, string>, annotations: Obj): string {
  const mesh = labels[MESH_LABEL] ?? (typeof annotations[MESH_LABEL] === 'string' ? annotations[MESH_LABEL] : undefined);
  delete labels[MESH_LABEL];
  return mesh || DEFAULT_MESH;
}

function fromKubeSecret(doc: Obj): Parsed {
  const errors: FieldError[] = [];
  checkKnownKeys(doc, ['apiVersion', 'kind', 'metadata', 'type', 'data', 'stringData', 'immutable'], '', errors);
  const rtype = typeof doc.type === 'string' ? K8S_SECRET_TYPES[doc.type] : undefined;
  if (!rtype) {
    errors.push({
      field: 'type',
      message: 'a Kuma secret has type system.kuma.io/secret (mesh-scoped) or system.kuma.io/global-secret; set one of them',
    });
  }
  const { name, labels, annotations } = kubeMeta(doc, errors);
  const mesh = rtype === 'Secret' ? takeMesh(labels, annotations) : undefined;
  let data: string | undefined;
  for (const block of ['data', 'stringData'] as const) {
    const v = doc[block];
    if (v === undefined) continue;
    if (!isRecord(v)) {
      errors.push({ field: block, message: 'must be a mapping with the key value' });
      continue;
    }
    checkKnownKeys(v, ['value'], block, errors, 'a Kuma secret (it holds one key, value)');
    if (typeof v.value !== 'string') errors.push({ field: `${block}.value`, message: 'must be text' });
    else data = block === 'data' ? v.value : Buffer.from(v.value, 'utf8').toString('base64');
  }
  if (data === undefined && errors.length === 0) {
    errors.push({ field: 'data.value', message: 'required; put the secret, base64-encoded, in data.value' });
  }
  return finish(rtype ?? 'Secret', name, mesh, labels, { data: data ?? '' }, errors);
}

function fromKubernetes(doc: Obj): Parsed {
  if (doc.apiVersion === 'v1' && doc.kind === 'Secret') return fromKubeSecret(doc);
  const errors: FieldError[] = [];
  if (doc.apiVersion !== KUMA_API_VERSION) {
    errors.push({
      field: 'apiVersion',
      message: `must be ${KUMA_API_VERSION} (or v1 for a Secret of type system.kuma.io/secret); got ${describe(doc.apiVersion, 'apiVersion')}`,
    });
    return { errors };
  }
  const kind = doc.kind;
  if (typeof kind !== 'string' || !(KUBE_KINDS as readonly string[]).includes(kind)) {
    const secretHint =
      kind === 'Secret' || kind === 'GlobalSecret'
        ? '; on Kubernetes secrets are apiVersion: v1, kind: Secret, type: system.kuma.io/secret (or system.kuma.io/global-secret)'
        : '';
    errors.push({ field: 'kind', message: `must be one of ${KUBE_KINDS.join(', ')} (got ${describe(kind, 'kind')})${secretHint}` });
    return { errors };
  }
  const rtype = kind as ResourceType;
  checkKnownKeys(doc, ['apiVersion', 'kind', 'metadata', 'spec', 'status'], '', errors, 'a Kubernetes resource (fields go under spec)');
  const { name, labels, annotations } = kubeMeta(doc, errors);
  const mesh = MESH_SCOPED.has(rtype) ? takeMesh(labels, annotations) : undefined;
  // meshca's own directives (meshca.io/force-rotation) are annotations on Kubernetes; the model keeps them as labels.
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(MESHCA_ANNOTATION_PREFIX) && typeof value === 'string' && labels[key] === undefined) labels[key] = value;
  }
  let spec: Obj = {};
  if (isRecord(doc.spec)) spec = doc.spec;
  else if (doc.spec !== undefined && doc.spec !== null) {
    errors.push({ field: 'spec', message: `must be a mapping of the resource's fields (got ${describe(doc.spec, 'spec')})` });
  }
  return finish(rtype, name, mesh, labels, spec, errors);
}

/** Converts one decoded document. Errors carry paths relative to the document. */
export function convertDocument(doc: unknown): Parsed {
  if (!isRecord(doc)) {
    return {
      errors: [
        {
          field: '',
          message: `a resource must be a mapping with type and name (Universal) or apiVersion, kind and metadata (Kubernetes); got ${describe(doc, '')}`,
        },
      ],
    };
  }
  if (doc.apiVersion !== undefined || doc.kind !== undefined) return fromKubernetes(doc);
  if (doc.type !== undefined) return fromUniversal(doc);
  return {
    errors: [{ field: '', message: 'set type and name (Universal form) or apiVersion, kind and metadata (Kubernetes form)' }],
  };
}

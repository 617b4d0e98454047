// Output in the two forms users read and re-apply: Kuma's Universal JSON and Kubernetes manifests.
import { DEFAULT_MESH, KUMA_API_VERSION, MESH_LABEL, SPEC_WRAPPED } from './envelope.js';
import { MESH_SCOPED, type Resource, type ResourceInput } from './types.js';

/** The namespace Kong Mesh keeps its system resources (Secrets, MeshIdentity, MeshTrust) in. */
export const DEFAULT_SYSTEM_NAMESPACE = 'kong-mesh-system';
const SYSTEM_NAMESPACED: ReadonlySet<string> = new Set(['Secret', 'GlobalSecret', 'MeshIdentity', 'MeshTrust', 'MeshTLS']);

/** A stored resource, or an input not stored yet (then the times are left out). */
type Printable = Resource | ResourceInput;

function times(r: Printable): { creationTime?: string; modificationTime?: string } {
  return 'creationTime' in r.meta ? { creationTime: r.meta.creationTime, modificationTime: r.meta.modificationTime } : {};
}

function specObject(resource: Printable): Record<string, unknown> {
  return { ...(resource.spec as Record<string, unknown>) };
}

/** Kuma's Universal JSON: type, name, mesh (mesh-scoped only), labels, times, then the fields. */
export function toUniversal(resource: Printable): Record<string, unknown> {
  const { meta } = resource;
  const out: Record<string, unknown> = { type: meta.type, name: meta.name };
  if (MESH_SCOPED.has(meta.type)) out.mesh = meta.mesh ?? DEFAULT_MESH;
  out.labels = { ...meta.labels };
  Object.assign(out, times(resource));
  const spec = specObject(resource);
  if (SPEC_WRAPPED.has(meta.type)) out.spec = spec;
  else Object.assign(out, spec);
  return out;
}

export interface KubernetesOptions {
  /** Namespace for Secrets and MeshIdentity (Kuma reads them from its system namespace). */
  systemNamespace?: string;
}

/** A manifest `kubectl apply` accepts, and that parseDocuments reads back to the same resource. */
export function toKubernetes(resource: Printable, opts: KubernetesOptions = {}): Record<string, unknown> {
  const { meta } = resource;
  const namespace = opts.systemNamespace ?? DEFAULT_SYSTEM_NAMESPACE;
  const labels: Record<string, string> = { ...meta.labels };
  if (MESH_SCOPED.has(meta.type)) labels[MESH_LABEL] = meta.mesh ?? DEFAULT_MESH;
  const metadata: Record<string, unknown> = { name: meta.name };
  if (SYSTEM_NAMESPACED.has(meta.type)) metadata.namespace = namespace;
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  const { creationTime } = times(resource);
  if (creationTime !== undefined) metadata.creationTimestamp = creationTime;
  if (meta.type === 'Secret' || meta.type === 'GlobalSecret') {
    const data = (resource.spec as { data?: unknown }).data;
    return {
      apiVersion: 'v1',
      kind: 'Secret',
      type: meta.type === 'Secret' ? 'system.kuma.io/secret' : 'system.kuma.io/global-secret',
      metadata,
      data: { value: data },
    };
  }
  return { apiVersion: KUMA_API_VERSION, kind: meta.type, metadata, spec: specObject(resource) };
}

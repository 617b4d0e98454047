export * from './types.js';
export * from './errors.js';
export { parseDocuments, parseLocatedDocuments, parseValidDocuments, parseObject, assertValid, type LocatedInput } from './parse.js';
export { validateResource } from './validate.js';
export { validateMeshSpec, BACKEND_MODES, DP_CERT_EXPIRATION_BOUNDS } from './validate-mesh.js';
export {
  BACKEND_SPECS,
  BACKEND_TYPES,
  CA_EXPIRATION_BOUNDS,
  RSA_BITS,
  isBackendType,
  type BackendConfs,
  type BackendSpec,
} from './backends/index.js';
export { validateDataSource, isBase64, dataSourceSecret, DATA_SOURCE_KINDS } from './datasource.js';
export { parseDuration } from './duration.js';
export { nameProblem, MAX_NAME_LENGTH } from './names.js';
export { toUniversal, toKubernetes, DEFAULT_SYSTEM_NAMESPACE, type KubernetesOptions } from './format.js';
export { secretReferences, resourceKey, keyString } from './refs.js';
export { KUMA_API_VERSION, MESH_LABEL, DEFAULT_MESH, K8S_SECRET_TYPES, WITH_STATUS } from './envelope.js';
export * from './paths.js';
export { redactInlineSecrets, REDACTED } from './redact.js';
export { isSecretField } from './fields.js';
export * from './rotation.js';
export * from './workload-identity/index.js';

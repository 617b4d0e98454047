// Vault answers every failure as {"errors": [...]} with the status its request
// pipeline picks; these helpers carry both so handlers can just throw.

export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; ') || `status ${status}`);
  }
}

/** go-multierror rendering, which Vault uses for pipeline errors (ACL, routing). */
export function multiError(...messages: string[]): string {
  const head = messages.length === 1 ? '1 error occurred:' : `${messages.length} errors occurred:`;
  return `${head}\n${messages.map((m) => `\t* ${m}`).join('\n')}\n\n`;
}

/** A logical.ErrorResponse from a backend: 400 with the bare message. */
export function badRequest(message: string): VaultHttpError {
  return new VaultHttpError(400, [message]);
}

/** Token present but its policies do not grant the operation, or no token at all. */
export function permissionDenied(): VaultHttpError {
  return new VaultHttpError(403, [multiError('permission denied')]);
}

/** Unknown, revoked or expired token. */
export function invalidToken(): VaultHttpError {
  return new VaultHttpError(403, [multiError('permission denied', 'invalid token')]);
}

export function noRoute(path: string): VaultHttpError {
  return new VaultHttpError(404, [`no handler for route ${JSON.stringify(path)}. route entry not found.`]);
}

export function unsupportedPath(): VaultHttpError {
  return new VaultHttpError(404, [multiError('unsupported path')]);
}

export function unsupportedOperation(): VaultHttpError {
  return new VaultHttpError(405, [multiError('unsupported operation')]);
}

/** A read that found nothing: Vault answers 404 with an empty error list. */
export function notFound(): VaultHttpError {
  return new VaultHttpError(404, []);
}

export function sealedError(): VaultHttpError {
  return new VaultHttpError(503, ['Vault is sealed']);
}

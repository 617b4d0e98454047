/**
 * A CA that could not do what was asked. The message is for an operator: it names the backend,
 * says what the CA answered, and what to check. It never carries a secret, token or key.
 */
export class CaError extends Error {
  constructor(
    message: string,
    /** Worth retrying (CA down, throttled), as opposed to refused (denied, misconfigured). */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CaError';
  }
}

/** One failing field: the path as users write it (`mtls.backends[0].conf.fromCp.auth`) and what to do. */
export interface FieldError {
  field: string;
  message: string;
}

/** Thrown when input is refused; carries every failing field, never a partial result. */
export class ValidationError extends Error {
  constructor(
    readonly errors: FieldError[],
    readonly title = 'Resource is not valid',
  ) {
    super(`${title}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'ValidationError';
  }
}

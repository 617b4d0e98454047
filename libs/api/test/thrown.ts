import { expect } from 'vitest';
import { type FieldError, ValidationError } from '../src/index.js';

/** The FieldErrors a call throws as ValidationError (fails the test if it does not throw one). */
export function thrown(fn: () => unknown): FieldError[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).errors;
  }
  throw new Error('expected a ValidationError, nothing was thrown');
}

// AWS JSON 1.1 error shape: the SDK reads the type from `x-amzn-errortype` or `__type`
// and the text from `message`. ACM PCA answers client faults with HTTP 400.
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

export const notFound = (arn: string): AwsError => new AwsError('ResourceNotFoundException', `Resource ${arn} not found.`);

export const invalidArgs = (message: string): AwsError => new AwsError('InvalidArgsException', message);

export const invalidState = (message: string): AwsError => new AwsError('InvalidStateException', message);

// The message format AWS's request validation uses for schema violations (missing
// required members, values outside an enum).
export function validation(path: string, value: unknown, constraint: string): AwsError {
  return new AwsError(
    'ValidationException',
    `1 validation error detected: Value '${String(value)}' at '${path}' failed to satisfy constraint: ${constraint}`,
  );
}

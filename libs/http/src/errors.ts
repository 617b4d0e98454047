import type { ErrorRequestHandler } from 'express';
import { ValidationError, type FieldError } from '@meshca/api';
import { ConflictError, NotFoundError, StoreUnavailableError } from '@meshca/store';
import type { Logger } from '@meshca/common';

/** An error with an HTTP status and a message safe to show the caller. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
    readonly causes: FieldError[] = [],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface ErrorBody {
  status: number;
  title: string;
  detail: string;
  causes: FieldError[];
}

export function toErrorBody(err: unknown): ErrorBody {
  if (err instanceof ApiError) return { status: err.status, title: err.title, detail: err.message, causes: err.causes };
  if (err instanceof ValidationError) return { status: 400, title: err.title, detail: err.message, causes: err.errors };
  if (err instanceof NotFoundError) return { status: 404, title: 'Not found', detail: err.message, causes: [] };
  if (err instanceof ConflictError) return { status: 409, title: 'Conflict', detail: err.message, causes: [] };
  if (err instanceof StoreUnavailableError) {
    return {
      status: 503,
      title: 'Store unavailable',
      detail: `${err.message}; try again shortly (GET /readyz says when it is back)`,
      causes: [],
    };
  }
  const status = clientErrorStatus(err);
  if (status !== undefined) return { status, title: 'Bad request', detail: (err as Error).message, causes: [] };
  return { status: 500, title: 'Internal error', detail: 'the control plane failed to process the request; see its log', causes: [] };
}

/** A 4xx that express or its parsers raised for the client's mistake (a path that is not valid percent-encoding, ...). */
function clientErrorStatus(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const { status, expose } = err as { status?: unknown; expose?: unknown };
  // express marks a path it cannot percent-decode as a URIError with status 400, without `expose`.
  const safe = expose === true || err instanceof URIError;
  return typeof status === 'number' && status >= 400 && status < 500 && safe ? status : undefined;
}

/** An unread body up to this size is discarded (no parsing) so the connection can answer and stay open. */
const DRAIN_LIMIT_BYTES = 8 * 1024 * 1024;

/** Seconds a client should wait before retrying a 503. */
export const RETRY_AFTER_SECONDS = 2;

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const body = toErrorBody(err);
    if (body.status === 503) log.warn({ method: req.method, path: req.path, err: body.detail }, 'request refused: store unavailable');
    else if (body.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    else log.info({ method: req.method, path: req.path, status: body.status, detail: body.detail }, 'request refused');
    if (body.status === 503) res.set('retry-after', String(RETRY_AFTER_SECONDS));
    // A body left unread (refused before reading it) is drained without parsing, so the client
    // reads the answer; past a bound, or of unknown length, the connection ends instead.
    if (!req.complete && !(Number(req.get('content-length')) <= DRAIN_LIMIT_BYTES)) res.set('connection', 'close');
    res.status(body.status).json(body);
  };
}

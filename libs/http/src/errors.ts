import type { ErrorRequestHandler } from 'express';
import { ValidationError, type FieldError } from '@meshca/api';
import { ConflictError, NotFoundError } from '@meshca/store';
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
  if (isBodyParseError(err)) return { status: 400, title: 'Malformed request body', detail: 'the request body is not valid JSON', causes: [] };
  return { status: 500, title: 'Internal error', detail: 'the control plane failed to process the request; see its log', causes: [] };
}

function isBodyParseError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { type?: string }).type === 'entity.parse.failed';
}

export function errorHandler(log: Logger): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const body = toErrorBody(err);
    if (body.status >= 500) log.error({ err, method: req.method, path: req.path }, 'request failed');
    else log.info({ method: req.method, path: req.path, status: body.status, detail: body.detail }, 'request refused');
    res.status(body.status).json(body);
  };
}

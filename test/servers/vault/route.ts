import type { PeerCertificate } from 'node:tls';
import type { Body } from './params.js';
import type { TokenEntry } from './tokens.js';

export type Operation = 'read' | 'list' | 'create' | 'update' | 'delete' | 'patch';

export interface Request {
  op: Operation;
  /** Path relative to the mount or system area it was routed to (no leading slash). */
  path: string;
  body: Body;
  query: URLSearchParams;
  token: TokenEntry | undefined;
  clientCert: PeerCertificate | undefined;
}

export interface Result {
  data?: Record<string, unknown>;
  auth?: Record<string, unknown>;
  warnings?: string[];
  /** A raw body with its own content type (PKI's PEM endpoints). */
  raw?: { contentType: string; body: string };
  /** Respond 204 even if data is present (never used) or a forced status. */
  status?: number;
}

export type Handler = (req: Request) => Promise<Result | undefined> | Result | undefined;

/** One matched path: handlers per operation, plus what the request pipeline needs to know first. */
export interface Route {
  read?: Handler;
  list?: Handler;
  /** Used for both create and update unless `create` is set. */
  write?: Handler;
  create?: Handler;
  delete?: Handler;
  /** Present when the path has an ExistenceCheck: decides create vs update for ACLs. */
  exists?: () => boolean;
  unauthenticated?: boolean;
  sudo?: boolean;
}

export function handlerFor(route: Route, op: Operation): Handler | undefined {
  switch (op) {
    case 'read':
      return route.read;
    case 'list':
      return route.list;
    case 'create':
      return route.create ?? route.write;
    case 'update':
      return route.write;
    case 'delete':
      return route.delete;
    default:
      return undefined;
  }
}

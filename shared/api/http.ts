import { ConditionFailedError, ConflictError, NotFoundError, StoreUnavailableError, ValidationError } from '../errors';

/**
 * A transport-free HTTP exchange: the Lambda adapters and the local server both turn their
 * requests into this shape and the core answers in it, so the logic is tested once.
 */
export interface HttpRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string | undefined>>;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  /** A JSON-serialisable body; absent for 304 and 204. */
  readonly body?: unknown;
}

/** HttpError is a client mistake with the status it deserves and a message that names it. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export const jsonResponse = (status: number, body: unknown): HttpResponse => ({ status, body });

/** parseJsonBody parses a request body, naming what is wrong with it. */
export function parseJsonBody(body: string, limitBytes: number): unknown {
  const size = Buffer.byteLength(body, 'utf8');
  if (size > limitBytes) throw new HttpError(413, `request body is ${size} bytes; the limit is ${limitBytes}`);
  if (body.trim() === '') throw new HttpError(400, 'request body is empty; a JSON document is required');
  try {
    return JSON.parse(body);
  } catch (err) {
    throw new HttpError(400, `request body is not valid JSON: ${(err as Error).message}`);
  }
}

/**
 * errorResponse maps an error to the answer a caller should see: domain errors to 4xx with
 * what was wrong, a store outage to 503 (retry later), anything else to 500 without internals.
 */
export function errorResponse(err: unknown): HttpResponse {
  if (err instanceof HttpError) {
    return jsonResponse(err.status, { error: err.message, ...(err.details ? { details: err.details } : {}) });
  }
  if (err instanceof ValidationError) {
    return jsonResponse(400, { error: err.message, problems: err.problems });
  }
  if (err instanceof NotFoundError) return jsonResponse(404, { error: err.message });
  // A failed condition no caller turned into a ConflictError is still a lost race: 409, not 500.
  if (err instanceof ConflictError || err instanceof ConditionFailedError) return jsonResponse(409, { error: err.message });
  if (err instanceof StoreUnavailableError) {
    return { status: 503, headers: { 'retry-after': '1' }, body: { error: 'state store unavailable; retry later' } };
  }
  return jsonResponse(500, { error: 'internal error' });
}

/**
 * Why the xDS core declines to answer a request, in its own terms. HTTP status codes (and, for a
 * streaming server, gRPC status codes) are the transports' business: each adapter maps these.
 *
 * - `bad-request`: the request is malformed or incomplete (no node, no names where names are needed).
 * - `unauthenticated`: nobody is authenticated where authentication is required.
 * - `refused`: the caller is known but may not fetch what it asked for.
 * - `not-found`: the node's service is not declared, or the server does not serve the type.
 * - `unavailable`: the answer cannot be given right now (state or keys unreadable); retry.
 */
export const refusalKinds = ['bad-request', 'unauthenticated', 'refused', 'not-found', 'unavailable'] as const;
export type RefusalKind = (typeof refusalKinds)[number];

/** XdsRefusal is a typed refusal: what kind, a message that names the problem, and optional details. */
export class XdsRefusal extends Error {
  override readonly name = 'XdsRefusal';
  constructor(
    readonly kind: RefusalKind,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

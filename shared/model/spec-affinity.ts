import * as z from './zod';
import { headerName } from './spec-primitives';

/**
 * Session affinity on a dependency: requests that carry the same header value, the same cookie,
 * or come from the same caller instance go to the same endpoint while it is there (consistent
 * hashing: render/affinity.ts). Exactly one of the three.
 */

/** A cookie name: an RFC 6265 token. */
const cookieName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A cookie path: absolute, printable, no ';' (RFC 6265 path-value). */
const cookiePath = /^\/[\x21-\x3a\x3c-\x7e]*$/;

export const affinitySchema = z
  .strictObject({
    /** Hash on this request header, e.g. `x-session-id` (HTTP and gRPC metadata alike). */
    header: z.optional(headerName),
    /**
     * Hash on this cookie; when a request has none, Envoy sets one that lives `ttlSeconds`
     * (0: a session cookie) on `path` (default: the request's).
     */
    cookie: z.optional(
      z.strictObject({
        name: z.string().check(z.minLength(1), z.maxLength(128), z.regex(cookieName, 'must be a cookie name (an RFC 6265 token)')),
        ttlSeconds: z
          .int()
          .check(z.minimum(0, 'must be 0 (a session cookie) or more seconds'), z.maximum(31_536_000, 'must be at most 31536000 s (a year)')),
        path: z.optional(z.string().check(z.maxLength(1024), z.regex(cookiePath, 'must be an absolute path without ";"'))),
      }),
    ),
    /** Hash on the caller's address: each calling instance keeps to one endpoint (its sidecar sees the payload on loopback). */
    sourceIp: z.optional(z.literal(true, 'must be true (leave it out for no source-IP affinity)')),
  })
  .check(
    z.superRefine((affinity, ctx) => {
      const set = (['header', 'cookie', 'sourceIp'] as const).filter((k) => affinity[k] !== undefined);
      if (set.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'must set one of header, cookie or sourceIp' });
      for (const extra of set.slice(1)) {
        ctx.addIssue({ code: 'custom', path: [extra], message: `cannot be combined with ${set[0]}: affinity hashes on one thing` });
      }
    }),
  );

export type AffinitySpec = z.output<typeof affinitySchema>;

import * as z from 'zod';

/**
 * Session affinity on a dependency: requests that carry the same header value, the same cookie,
 * or come from the same caller instance go to the same endpoint while it is there (consistent
 * hashing: render/affinity.ts). Exactly one of the three.
 */

/** An HTTP header name as HTTP/2 carries it: a lowercase token (RFC 9110). */
const headerName = /^[0-9a-z!#$%&'*+\-.^_|~`]+$/;
/** A cookie name: an RFC 6265 token. */
const cookieName = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A cookie path: absolute, printable, no ';' (RFC 6265 path-value). */
const cookiePath = /^\/[\x21-\x3a\x3c-\x7e]*$/;

export const affinitySchema = z
  .strictObject({
    /** Hash on this request header, e.g. `x-session-id` (HTTP and gRPC metadata alike). */
    header: z.string().min(1).max(128).regex(headerName, 'must be a lowercase HTTP header name').optional(),
    /**
     * Hash on this cookie; when a request has none, Envoy sets one that lives `ttlSeconds`
     * (0: a session cookie) on `path` (default: the request's).
     */
    cookie: z
      .strictObject({
        name: z.string().min(1).max(128).regex(cookieName, 'must be a cookie name (an RFC 6265 token)'),
        ttlSeconds: z.int().min(0, 'must be 0 (a session cookie) or more seconds').max(31_536_000, 'must be at most 31536000 s (a year)'),
        path: z.string().max(1024).regex(cookiePath, 'must be an absolute path without ";"').optional(),
      })
      .optional(),
    /** Hash on the caller's address: each calling instance keeps to one endpoint (its sidecar sees the payload on loopback). */
    sourceIp: z.literal(true, 'must be true (leave it out for no source-IP affinity)').optional(),
  })
  .superRefine((affinity, ctx) => {
    const set = (['header', 'cookie', 'sourceIp'] as const).filter((k) => affinity[k] !== undefined);
    if (set.length === 0) ctx.addIssue({ code: 'custom', path: [], message: 'must set one of header, cookie or sourceIp' });
    for (const extra of set.slice(1)) {
      ctx.addIssue({ code: 'custom', path: [extra], message: `cannot be combined with ${set[0]}: affinity hashes on one thing` });
    }
  });

export type AffinitySpec = z.output<typeof affinitySchema>;

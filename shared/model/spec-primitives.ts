import * as z from './zod';
import { subsetLabels } from './labels';
import { retryConditions } from './service-terms';

/**
 * The smallest pieces of the service spec, in a leaf module: spec.ts and the feature files
 * beside it (spec-<feature>.ts, whose schemas spec.ts holds) both build on them, so neither
 * imports the other, and no schema is read lazily (z.lazy). spec.ts re-exports them.
 */

/** DNS_LABEL is RFC 1123: lowercase alphanumerics and '-', 1 to 63 characters, alphanumeric at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const serviceName = z
  .string()
  .check(z.regex(DNS_LABEL, 'must be a DNS label: 1-63 lowercase letters, digits or "-", starting and ending alphanumeric'));

export const port = z.int().check(z.minimum(1, 'must be a port from 1 to 65535'), z.maximum(65535, 'must be a port from 1 to 65535'));

/** An HTTP header name as HTTP/2 carries it: a lowercase token (RFC 9110). */
export const headerName = z.string().check(z.minLength(1), z.maxLength(128), z.regex(/^[0-9a-z!#$%&'*+\-.^_|~`]+$/, 'must be a lowercase HTTP header name'));

/** An HTTP path: absolute, printable, no spaces (what Envoy's path matchers compare against). */
export const httpPath = z.string().check(z.minLength(1), z.maxLength(1024), z.regex(/^\/[\x21-\x7e]*$/, 'must be an absolute path of printable characters'));

/** An integer from min to max, with zod's own messages (classic zod's `z.int().min(min).max(max)`). */
export const intBetween = (min: number, max: number) => z.int().check(z.minimum(min), z.maximum(max));

/** Durations in the spec are whole milliseconds (`...Ms`); rendering turns them into proto Durations ("2.5s"). */
const DAY_MS = 86_400_000;
export const millis = z.int().check(z.minimum(0, 'must be 0 or more milliseconds'), z.maximum(DAY_MS, 'must be at most 86400000 ms (one day)'));
export const positiveMillis = z.int().check(z.minimum(1, 'must be at least 1 ms'), z.maximum(DAY_MS, 'must be at most 86400000 ms (one day)'));

export const retriesSchema = z.strictObject({
  /** When to retry; defaults differ for HTTP and gRPC (see defaults.ts). */
  retryOn: z.optional(z.array(z.enum(retryConditions)).check(z.minLength(1), z.maxLength(retryConditions.length))),
  /** Status codes retried by `retriable-status-codes`. */
  statusCodes: z.optional(z.array(intBetween(100, 599)).check(z.minLength(1), z.maxLength(20))),
  numRetries: z.optional(intBetween(0, 10)),
  perTryTimeoutMs: z.optional(millis),
  backOff: z.optional(z.strictObject({ baseIntervalMs: z.optional(positiveMillis), maxIntervalMs: z.optional(positiveMillis) })),
});

export const splitSchema = z.strictObject({
  /** What the weights add up to (default 100). */
  total: z.optional(intBetween(1, 10_000)),
  subsets: z.array(z.strictObject({ labels: subsetLabels, weight: intBetween(0, 10_000) })).check(z.minLength(1), z.maxLength(20)),
});

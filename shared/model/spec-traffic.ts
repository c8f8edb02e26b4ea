import * as z from './zod';
import type { Problem } from '../errors';
import { dependencyDefaults } from './defaults';
import { re2Problem } from './re2';
import { subsetLabels } from './labels';
import { headerName, intBetween, millis, positiveMillis, retriesSchema, serviceName, splitSchema } from './spec-primitives';

/**
 * Traffic features of the spec (issue 17, items 3-6): route matching on a dependency
 * (`routes[]`), local rate limits (`rateLimit`, on the inbound side and per route), fault
 * injection (`faults`) and request mirroring (`mirror`).
 *
 * spec.ts imports these schemas; the primitives they build on (durations, subset labels,
 * splits, retries, service names) come from the leaf spec-primitives.ts, so there is no cycle.
 */



/** A path as a route matches it: absolute, printable, no query. */
const path = z
  .string()
  .check(z.minLength(1), z.maxLength(1024), z.regex(/^\/[\x21-\x3e\x40-\x7e]*$/, 'must be an absolute path of printable characters, without "?" or spaces'));

/** A regex Envoy compiles with RE2: refused when RE2 cannot compile it or its program is over Envoy's default size. */
export const re2Regex = z.string().check(
  z.minLength(1),
  z.maxLength(1024),
  z.superRefine((value, ctx) => {
    const problem = re2Problem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/** A percentage of requests: 0 to 100, to four decimals (Envoy counts per million). */
export const percent = z
  .number()
  .check(
    z.minimum(0, 'must be a percentage from 0 to 100'),
    z.maximum(100, 'must be a percentage from 0 to 100'),
    z.refine((p) => Math.abs(p * 10_000 - Math.round(p * 10_000)) < 1e-6, 'must have at most four decimals'),
  );

/** oneOf reports, on the object, that exactly one (or at most one) of `keys` must be set. */
function oneOf<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], required: boolean) {
  return (value: T, ctx: z.core.$RefinementCtx<T>) => {
    const set = keys.filter((k) => value[k] !== undefined);
    if (set.length > 1) ctx.addIssue({ code: 'custom', path: [set[1]!], message: `set only one of ${keys.join(', ')}` });
    if (required && set.length === 0) ctx.addIssue({ code: 'custom', message: `set one of ${keys.join(', ')}` });
  };
}

const valueMatchFields = {
  exact: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  prefix: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  regex: z.optional(re2Regex),
  /** true: the header or parameter being there is enough, whatever its value. */
  present: z.optional(z.literal(true)),
};
const valueMatchKeys = ['exact', 'prefix', 'regex', 'present'] as const;

export const headerMatchSchema = z
  .strictObject({ name: headerName, ...valueMatchFields, /** Matches requests that do NOT match. */ invert: z.optional(z.boolean()) })
  .check(z.superRefine(oneOf(valueMatchKeys, true)));

export const queryParamMatchSchema = z
  .strictObject({ name: z.string().check(z.minLength(1), z.maxLength(256), z.regex(/^[\x21-\x7e]+$/, 'must be printable, without spaces')), ...valueMatchFields })
  .check(z.superRefine(oneOf(valueMatchKeys, true)));

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

export const routeMatchSchema = z
  .strictObject({
    /** Paths starting with this; absent (with exactPath and regex): every path. */
    pathPrefix: z.optional(path),
    exactPath: z.optional(path),
    /** RE2, matched against the whole path (no query). */
    regex: z.optional(re2Regex),
    method: z.optional(z.enum(httpMethods)),
    headers: z.optional(z.array(headerMatchSchema).check(z.minLength(1), z.maxLength(10))),
    queryParams: z.optional(z.array(queryParamMatchSchema).check(z.minLength(1), z.maxLength(10))),
  })
  .check(z.superRefine(oneOf(['pathPrefix', 'exactPath', 'regex'], false)));

export const rateLimitSchema = z
  .strictObject({
    /** Tokens added each second. */
    requestsPerSecond: intBetween(1, 1_000_000),
    /** The bucket's size: how many requests may pass at once after a quiet spell (default: requestsPerSecond). */
    burst: z.optional(intBetween(1, 10_000_000)),
  })
  .check(
    z.superRefine((r, ctx) => {
      if (r.burst !== undefined && r.burst < r.requestsPerSecond) {
        ctx.addIssue({
          code: 'custom',
          path: ['burst'],
          message: `${r.burst} is below requestsPerSecond ${r.requestsPerSecond}: the bucket would hold at most ${r.burst} tokens, capping the rate there`,
        });
      }
    }),
  );

export const trafficRouteSchema = z
  .strictObject({
    match: routeMatchSchema,
    /** Matching requests go to this subset... */
    subset: z.optional(subsetLabels),
    /** ...or are split between subsets; neither: the dependency's default (its split, or every endpoint). */
    split: z.optional(splitSchema),
    /** Replaces the dependency's timeoutMs for matching requests. */
    timeoutMs: z.optional(millis),
    /** Replaces the dependency's retries for matching requests. */
    retries: z.optional(retriesSchema),
    /** Replaces the matched pathPrefix (or exactPath) before the request is sent on. */
    rewritePrefix: z.optional(path),
    /** A local rate limit on the matching requests this caller sends. */
    rateLimit: z.optional(rateLimitSchema),
  })
  .check(
    z.superRefine((route, ctx) => {
      oneOf<typeof route>(['subset', 'split'], false)(route, ctx);
      if (route.rewritePrefix !== undefined && route.match.pathPrefix === undefined && route.match.exactPath === undefined) {
        ctx.addIssue({ code: 'custom', path: ['rewritePrefix'], message: 'needs match.pathPrefix or match.exactPath: it replaces the matched part' });
      }
    }),
  );

/** The `routes` field of a dependency: first match first. */
export const trafficRoutesSchema = z.array(trafficRouteSchema).check(z.minLength(1), z.maxLength(50));

export const faultsSchema = z
  .strictObject({
    /** Hold this share of requests for fixedDelayMs before sending them on. */
    delay: z.optional(z.strictObject({ percent, fixedDelayMs: positiveMillis })),
    /** Answer this share of requests with an error instead of sending them. */
    abort: z.optional(
      z
        .strictObject({
          percent,
          /** An HTTP status from 200 to 599 (Envoy's range). */
          httpStatus: z.optional(intBetween(200, 599)),
          /** A gRPC status code from 1 (CANCELLED) to 16 (UNAUTHENTICATED); gRPC dependencies only. */
          grpcStatus: z.optional(intBetween(1, 16)),
        })
        .check(z.superRefine(oneOf(['httpStatus', 'grpcStatus'], true))),
    ),
  })
  .check(
    z.superRefine((f, ctx) => {
      if (f.delay === undefined && f.abort === undefined) ctx.addIssue({ code: 'custom', message: 'set delay, abort or both' });
    }),
  );

export const mirrorSchema = z.strictObject({
  /** The service that gets a copy of the requests (fire and forget: its answers are dropped). It must be a dependency too. */
  service: serviceName,
  percent,
});

export type TrafficRoute = z.output<typeof trafficRouteSchema>;
export type RouteMatch = z.output<typeof routeMatchSchema>;
export type HeaderMatch = z.output<typeof headerMatchSchema>;
export type QueryParamMatch = z.output<typeof queryParamMatchSchema>;
export type RateLimit = z.output<typeof rateLimitSchema>;
export type Faults = z.output<typeof faultsSchema>;
export type Mirror = z.output<typeof mirrorSchema>;

/** The traffic fields of a dependency entry, as checkTrafficPolicy reads them. */
interface TrafficDependency {
  readonly service: string;
  readonly timeoutMs?: number | undefined;
  readonly routes?: readonly TrafficRoute[] | undefined;
  readonly mirror?: Mirror | undefined;
}

/**
 * checkTrafficPolicy finds what well-typed traffic fields of one dependency still get wrong
 * within the spec: a route's split that does not add up, a per-try timeout the route's
 * timeout never lets run out, a mirror to a service that is not also a dependency (the caller
 * has no cluster for it, and the target's allow-list would refuse it) or to the dependency itself.
 */
export function checkTrafficPolicy(dep: TrafficDependency, where: string, dependencies: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  (dep.routes ?? []).forEach((route, j) => {
    const at = `${where}.routes.${j}`;
    if (route.split) {
      const total = route.split.total ?? dependencyDefaults.splitTotal;
      const sum = route.split.subsets.reduce((acc, s) => acc + s.weight, 0);
      if (sum !== total) problems.push({ path: `${at}.split.subsets`, message: `weights add up to ${sum}, not ${total}` });
    }
    const timeoutMs = route.timeoutMs ?? dep.timeoutMs ?? dependencyDefaults.timeoutMs;
    const perTry = route.retries?.perTryTimeoutMs;
    if (perTry !== undefined && perTry > 0 && timeoutMs > 0 && perTry > timeoutMs) {
      problems.push({ path: `${at}.retries.perTryTimeoutMs`, message: `${perTry} is longer than the route's timeout ${timeoutMs}` });
    }
  });
  if (dep.mirror) {
    if (dep.mirror.service === dep.service) {
      problems.push({ path: `${where}.mirror.service`, message: 'mirroring a dependency to itself sends every copy back to the same service' });
    } else if (!dependencies.includes(dep.mirror.service)) {
      problems.push({ path: `${where}.mirror.service`, message: `"${dep.mirror.service}" must also be declared in dependencies: mirrored requests go through its cluster` });
    }
  }
  return problems;
}

/**
 * analyzeTrafficProtocol finds traffic fields the dependency's protocol cannot carry out: all
 * of them need HTTP, and a gRPC status abort needs gRPC.
 */
export function analyzeTrafficProtocol(
  dep: { routes?: unknown; faults?: Faults | undefined; mirror?: Mirror | undefined },
  where: string,
  target: { name: string; protocol: string },
): Problem[] {
  const problems: Problem[] = [];
  const speaks = `"${target.name}" speaks ${target.protocol}`;
  if (target.protocol === 'tcp') {
    for (const [field, what] of [
      ['routes', 'routes need'],
      ['faults', 'fault injection needs'],
      ['mirror', 'mirroring needs'],
    ] as const) {
      if (dep[field] !== undefined) problems.push({ path: `${where}.${field}`, message: `${what} HTTP; ${speaks}` });
    }
  } else if (target.protocol !== 'grpc' && dep.faults?.abort?.grpcStatus !== undefined) {
    problems.push({ path: `${where}.faults.abort.grpcStatus`, message: `a gRPC status needs a gRPC dependency; ${speaks} (use httpStatus)` });
  }
  return problems;
}

/** analyzeMirrorTarget finds a mirror target that speaks another protocol than the requests it would copy. */
export function analyzeMirrorTarget(
  dep: { mirror?: Mirror | undefined },
  where: string,
  target: { name: string; protocol: string },
  declared: ReadonlyMap<string, { name: string; protocol: string }>,
): Problem[] {
  const mirrorTarget = dep.mirror && declared.get(dep.mirror.service);
  if (!mirrorTarget || mirrorTarget.protocol === target.protocol || target.protocol === 'tcp') return [];
  return [
    {
      path: `${where}.mirror.service`,
      message: `"${mirrorTarget.name}" speaks ${mirrorTarget.protocol}, and the requests it would copy are ${target.protocol}`,
    },
  ];
}

/** checkServiceTraffic finds an inbound rate limit on a service that does not speak HTTP. */
export function checkServiceTraffic(s: { protocol: string; rateLimit?: RateLimit | undefined }): Problem[] {
  if (s.rateLimit && s.protocol === 'tcp') return [{ path: 'rateLimit', message: 'a rate limit counts HTTP requests; this service speaks tcp' }];
  return [];
}

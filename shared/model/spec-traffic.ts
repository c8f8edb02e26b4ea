import * as z from 'zod';
import type { Problem } from '../errors';
import { dependencyDefaults } from './defaults';
import { re2Problem } from './re2';
import * as spec from './spec';

/**
 * Traffic features of the spec (issue 17, items 3-6): route matching on a dependency
 * (`routes[]`), local rate limits (`rateLimit`, on the inbound side and per route), fault
 * injection (`faults`) and request mirroring (`mirror`).
 *
 * spec.ts imports these schemas and this file imports spec.ts's primitives (durations, subset
 * labels, splits, retries, service names): both sides read the other's through `z.lazy`, at
 * parse time, never while the modules load, so the cycle is harmless whichever loads first.
 */

const subsetLabels = z.lazy(() => spec.subsetLabels);
const splitSchema = z.lazy(() => spec.splitSchema);
const retriesSchema = z.lazy(() => spec.retriesSchema);
const serviceName = z.lazy(() => spec.serviceName);
const millis = z.lazy(() => spec.millis);
const positiveMillis = z.lazy(() => spec.positiveMillis);

const headerName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[0-9a-z!#$%&'*+\-.^_|~`]+$/, 'must be a lowercase HTTP header name');

/** A path as a route matches it: absolute, printable, no query. */
const path = z
  .string()
  .min(1)
  .max(1024)
  .regex(/^\/[\x21-\x3e\x40-\x7e]*$/, 'must be an absolute path of printable characters, without "?" or spaces');

/** A regex Envoy compiles with RE2: refused when RE2 cannot compile it or its program is over Envoy's default size. */
export const re2Regex = z
  .string()
  .min(1)
  .max(1024)
  .superRefine((value, ctx) => {
    const problem = re2Problem(value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A percentage of requests: 0 to 100, to four decimals (Envoy counts per million). */
export const percent = z
  .number()
  .min(0, 'must be a percentage from 0 to 100')
  .max(100, 'must be a percentage from 0 to 100')
  .refine((p) => Math.abs(p * 10_000 - Math.round(p * 10_000)) < 1e-6, 'must have at most four decimals');

/** oneOf reports, on the object, that exactly one (or at most one) of `keys` must be set. */
function oneOf<T extends Record<string, unknown>>(keys: readonly (keyof T & string)[], required: boolean) {
  return (value: T, ctx: z.RefinementCtx) => {
    const set = keys.filter((k) => value[k] !== undefined);
    if (set.length > 1) ctx.addIssue({ code: 'custom', path: [set[1]!], message: `set only one of ${keys.join(', ')}` });
    if (required && set.length === 0) ctx.addIssue({ code: 'custom', message: `set one of ${keys.join(', ')}` });
  };
}

const valueMatchFields = {
  exact: z.string().min(1).max(1024).optional(),
  prefix: z.string().min(1).max(1024).optional(),
  regex: re2Regex.optional(),
  /** true: the header or parameter being there is enough, whatever its value. */
  present: z.literal(true).optional(),
};
const valueMatchKeys = ['exact', 'prefix', 'regex', 'present'] as const;

export const headerMatchSchema = z
  .strictObject({ name: headerName, ...valueMatchFields, /** Matches requests that do NOT match. */ invert: z.boolean().optional() })
  .superRefine(oneOf(valueMatchKeys, true));

export const queryParamMatchSchema = z
  .strictObject({ name: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable, without spaces'), ...valueMatchFields })
  .superRefine(oneOf(valueMatchKeys, true));

export const httpMethods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;

export const routeMatchSchema = z
  .strictObject({
    /** Paths starting with this; absent (with exactPath and regex): every path. */
    pathPrefix: path.optional(),
    exactPath: path.optional(),
    /** RE2, matched against the whole path (no query). */
    regex: re2Regex.optional(),
    method: z.enum(httpMethods).optional(),
    headers: z.array(headerMatchSchema).min(1).max(10).optional(),
    queryParams: z.array(queryParamMatchSchema).min(1).max(10).optional(),
  })
  .superRefine(oneOf(['pathPrefix', 'exactPath', 'regex'], false));

export const rateLimitSchema = z
  .strictObject({
    /** Tokens added each second. */
    requestsPerSecond: z.int().min(1).max(1_000_000),
    /** The bucket's size: how many requests may pass at once after a quiet spell (default: requestsPerSecond). */
    burst: z.int().min(1).max(10_000_000).optional(),
  })
  .superRefine((r, ctx) => {
    if (r.burst !== undefined && r.burst < r.requestsPerSecond) {
      ctx.addIssue({
        code: 'custom',
        path: ['burst'],
        message: `${r.burst} is below requestsPerSecond ${r.requestsPerSecond}: the bucket would hold at most ${r.burst} tokens, capping the rate there`,
      });
    }
  });

export const trafficRouteSchema = z
  .strictObject({
    match: routeMatchSchema,
    /** Matching requests go to this subset... */
    subset: subsetLabels.optional(),
    /** ...or are split between subsets; neither: the dependency's default (its split, or every endpoint). */
    split: splitSchema.optional(),
    /** Replaces the dependency's timeoutMs for matching requests. */
    timeoutMs: millis.optional(),
    /** Replaces the dependency's retries for matching requests. */
    retries: retriesSchema.optional(),
    /** Replaces the matched pathPrefix (or exactPath) before the request is sent on. */
    rewritePrefix: path.optional(),
    /** A local rate limit on the matching requests this caller sends. */
    rateLimit: rateLimitSchema.optional(),
  })
  .superRefine((route, ctx) => {
    oneOf<typeof route>(['subset', 'split'], false)(route, ctx);
    if (route.rewritePrefix !== undefined && route.match.pathPrefix === undefined && route.match.exactPath === undefined) {
      ctx.addIssue({ code: 'custom', path: ['rewritePrefix'], message: 'needs match.pathPrefix or match.exactPath: it replaces the matched part' });
    }
  });

/** The `routes` field of a dependency: first match first. */
export const trafficRoutesSchema = z.array(trafficRouteSchema).min(1).max(50);

export const faultsSchema = z
  .strictObject({
    /** Hold this share of requests for fixedDelayMs before sending them on. */
    delay: z.strictObject({ percent, fixedDelayMs: positiveMillis }).optional(),
    /** Answer this share of requests with an error instead of sending them. */
    abort: z
      .strictObject({
        percent,
        /** An HTTP status from 200 to 599 (Envoy's range). */
        httpStatus: z.int().min(200).max(599).optional(),
        /** A gRPC status code from 1 (CANCELLED) to 16 (UNAUTHENTICATED); gRPC dependencies only. */
        grpcStatus: z.int().min(1).max(16).optional(),
      })
      .superRefine(oneOf(['httpStatus', 'grpcStatus'], true))
      .optional(),
  })
  .superRefine((f, ctx) => {
    if (f.delay === undefined && f.abort === undefined) ctx.addIssue({ code: 'custom', message: 'set delay, abort or both' });
  });

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

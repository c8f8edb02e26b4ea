import { edgeDefaults, serviceDefaults } from './defaults';
import type { ServiceSpec } from './spec';

/**
 * The words of a service spec that rendering and the store need at run time, kept apart from
 * spec.ts, whose zod schemas validate specs on the way in: code on the read path (the xds
 * function renders proxyless forms and reads the catalog) then loads no zod. spec.ts
 * re-exports them.
 */

/** HTTP retry conditions (Envoy's x-envoy-retry-on) that need no further configuration than statusCodes. */
export const httpRetryConditions = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
] as const;
/** gRPC retry conditions (x-envoy-retry-grpc-on): only meaningful on a gRPC dependency. */
export const grpcRetryConditions = ['cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'] as const;
export const retryConditions = [...httpRetryConditions, ...grpcRetryConditions] as const;
export type RetryCondition = (typeof retryConditions)[number];

/** ecsServiceNameOf returns the ECS service name whose tasks belong to this mesh service. */
export function ecsServiceNameOf(spec: ServiceSpec): string {
  return spec.ecs?.serviceName ?? spec.name;
}

/** What a spec declares: a mesh service (default), an ingress gateway, or a service outside the mesh (spec-edges.ts). */
export const serviceKinds = ['service', 'gateway', 'external'] as const;
export type ServiceKind = (typeof serviceKinds)[number];

/** How strictly a service asks for mutual TLS on its inbound side (spec-edges.ts, mtlsSchema). */
export const mtlsModes = ['strict', 'permissive', 'off'] as const;
export type MtlsMode = (typeof mtlsModes)[number];

/** kindOf is a spec's kind: "service" unless it says otherwise. */
export function kindOf(spec: { readonly kind?: ServiceKind | undefined }): ServiceKind {
  return spec.kind ?? edgeDefaults.kind;
}

/** mtlsModeOf resolves `mtls.mode`, reading the older `enabled` switch when mode is not set. */
export function mtlsModeOf(spec: { readonly mtls?: { readonly enabled?: boolean | undefined; readonly mode?: MtlsMode | undefined } | undefined }): MtlsMode {
  if (spec.mtls?.mode) return spec.mtls.mode;
  const enabled = spec.mtls?.enabled ?? serviceDefaults.mtls.enabled;
  return enabled ? 'strict' : 'off';
}

/**
 * mtlsEnabledOf tells whether the service takes part in mutual TLS: it has a mesh identity and
 * terminates mTLS on its inbound side (mode strict or permissive).
 */
export function mtlsEnabledOf(spec: Parameters<typeof mtlsModeOf>[0]): boolean {
  return mtlsModeOf(spec) !== 'off';
}

/**
 * dependencyNamesOf lists the services a spec sends traffic to, sorted and unique: its
 * dependencies and, for a gateway, the services its routes name. Gateway routes count as
 * declared dependencies everywhere the graph matters (the callers' allow-list default, the
 * dependents index, re-rendering and the checks against the catalog).
 */
export function dependencyNamesOf(spec: {
  readonly dependencies: readonly { readonly service: string }[];
  readonly routes?: readonly { readonly service: string }[] | undefined;
}): string[] {
  return [...new Set([...spec.dependencies.map((d) => d.service), ...(spec.routes ?? []).map((r) => r.service)])].sort();
}

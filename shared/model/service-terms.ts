import { serviceDefaults } from './defaults';
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

/** mtlsEnabledOf tells whether the service takes part in mutual TLS: it has a mesh identity and requires one from callers. */
export function mtlsEnabledOf(spec: Pick<ServiceSpec, 'mtls'>): boolean {
  return spec.mtls?.enabled ?? serviceDefaults.mtls.enabled;
}

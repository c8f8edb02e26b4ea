import { Endpoint, EndpointHealth } from '../../../shared/model/endpoint';
import { Protocol, ServiceSpec, ServiceSpecInput } from '../../../shared/model/spec';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { NodeWorld } from '../../../shared/model/node-world';
import { RenderSettings } from '../../../shared/render/settings';

/** Fixture builders for rendering tests, in one place. */

export const settings: RenderSettings = { xdsClusterName: 'xds_cluster', refreshDelay: '5s', requestTimeout: '5s', meshName: 'mesh.local' };

/** spec parses a spec input the way the API does, so fixtures are valid specs with defaults applied. */
export function spec(input: Partial<ServiceSpecInput> & { name: string }): ServiceSpec {
  return parseServiceSpec({ inboundPort: 15000, appPort: 8080, protocol: 'http', ...input });
}

/** world builds a node's world from a service, the specs of the services it calls and the names of those that call it. */
export function world(service: ServiceSpec, dependencies: readonly ServiceSpec[], callers: readonly string[] = []): NodeWorld {
  return { spec: service, dependencies: new Map(dependencies.map((d) => [d.name, d])), callers };
}

let sequence = 0;

/** endpoint makes one live instance of a service. */
export function endpoint(
  service: string,
  id: string,
  overrides: { zone?: string; health?: EndpointHealth; labels?: Record<string, string>; address?: string } = {},
): Endpoint {
  sequence += 1;
  return {
    service,
    id,
    address: overrides.address ?? `10.0.${sequence % 250}.${(sequence * 7) % 250}`,
    port: 15000,
    ...(overrides.zone !== undefined ? { zone: overrides.zone } : {}),
    health: overrides.health ?? 'healthy',
    labels: overrides.labels ?? {},
    source: { kind: 'ecs-task', eventId: `ev-${id}`, eventTime: '2026-01-01T00:00:00Z', orderingKey: 1 },
  };
}

/**
 * fullPolicy is a dependency entry that sets every traffic-policy option the spec has, in
 * the form its protocol accepts: the conformance matrix renders one per protocol.
 */
export function fullPolicy(service: string, protocol: Protocol, localPort: number): NonNullable<ServiceSpecInput['dependencies']>[number] {
  const common = {
    service,
    localPort,
    connectTimeoutMs: 250,
    idleTimeoutMs: 60_000,
    circuitBreakers: { maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 5 },
    outlierDetection: {
      consecutive5xx: 3,
      consecutiveGatewayErrors: 2,
      intervalMs: 5_000,
      baseEjectionTimeMs: 15_000,
      maxEjectionPercent: 34,
    },
    split: {
      subsets: [
        { labels: { revision: '12' }, weight: 90 },
        { labels: { revision: '13' }, weight: 10 },
      ],
    },
    zoneAware: { enabled: true, minClusterSize: 3, routingEnabledPercent: 80 },
  };
  if (protocol === 'tcp') return { ...common, healthCheck: { intervalMs: 5_000, timeoutMs: 1_000 } };
  const http = {
    ...common,
    timeoutMs: 2_000,
    headerRoutes: [
      { header: 'x-canary', exact: '1', subset: { revision: '13' } as Record<string, string> },
      { header: 'x-debug', subset: { revision: '13', track: 'debug' } },
    ],
  };
  if (protocol === 'grpc') {
    return {
      ...http,
      retries: {
        retryOn: ['connect-failure', 'cancelled', 'deadline-exceeded', 'internal', 'resource-exhausted', 'unavailable'],
        numRetries: 3,
        perTryTimeoutMs: 500,
        backOff: { baseIntervalMs: 50, maxIntervalMs: 400 },
      },
      healthCheck: { grpcServiceName: 'orders.v1.Orders', intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 2, healthyThreshold: 1 },
    };
  }
  return {
    ...http,
    retries: {
      retryOn: ['5xx', 'gateway-error', 'reset', 'reset-before-request', 'connect-failure', 'retriable-4xx', 'refused-stream', 'retriable-status-codes'],
      statusCodes: [503, 429],
      numRetries: 3,
      perTryTimeoutMs: 500,
      backOff: { baseIntervalMs: 50, maxIntervalMs: 400 },
    },
    healthCheck: { path: '/healthz', intervalMs: 5_000, timeoutMs: 1_000, unhealthyThreshold: 2, healthyThreshold: 1 },
  };
}

export const protocols: readonly Protocol[] = ['http', 'http2', 'grpc', 'tcp'];

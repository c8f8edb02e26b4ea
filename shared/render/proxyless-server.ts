import type { ServiceSpec } from '../model/spec';
import { kindOf } from '../model/service-terms';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { jwtOf } from './jwt';
import { names } from './names';
import { allowedCallers } from './rbac';
import { callerPolicyPerFilterConfig, inboundRbacListenerFilter } from './inbound-policy';
import { proxylessServerEnforcesCallers, proxylessServerTransportSocket } from './proxyless-tls';
import { RenderSettings, adsConfigSource } from './settings';

/**
 * What a proxyless gRPC *server* of a service is served (gRFC A36 xDS-enabled servers, A41 RBAC):
 * an `XdsServer` binding `0.0.0.0:<inboundPort>` asks LDS for names.proxylessServerListener and
 * answers calls only as that Listener says. As in Envoy's inbound form (inbound-policy.ts), the
 * listener's RBAC filter has fixed rules that deny everything, and the allow-list rides on the
 * route configuration (RDS, over ADS) as the filter's per-route override, so a caller added or
 * removed changes only the route configuration: gRPC applies it to the next call, and the
 * listener (whose change would make gRPC build new filter chains and drain the old ones) is
 * byte-identical.
 *
 * gRPC's rules for a server Listener (grpc-js-xds listener-resource-type.js, A36): an address
 * the server's own, no listener filters, filter chains of exactly one HttpConnectionManager
 * whose last HTTP filter is the router, TLS only by certificate provider instances; routes with
 * `non_forwarding_action` (any other action fails the call).
 */

const hcmType = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const routerType = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/**
 * servesProxyless: a proxyless server listener is rendered for mesh services that speak gRPC,
 * unless they check a JWT: gRPC has no JWT filter, so such a service's proxyless servers get no
 * Listener and never serve (closed, rather than open without the check).
 */
export function servesProxyless(spec: ServiceSpec): boolean {
  return kindOf(spec) === 'service' && spec.protocol === 'grpc' && jwtOf(spec) === undefined;
}

/** proxylessServerListener is the Listener of the service's proxyless servers: one filter chain, TLS where proxyless-tls.ts says, routes over RDS. */
export function proxylessServerListener(spec: ServiceSpec, settings: RenderSettings): EnvoyResource {
  const transportSocket = proxylessServerTransportSocket(spec, settings);
  const rbac = proxylessServerEnforcesCallers(spec, settings);
  return {
    '@type': typeUrls.listeners,
    name: names.proxylessServerListener(spec.inboundPort),
    address: { socket_address: { address: '0.0.0.0', port_value: spec.inboundPort } },
    filter_chains: [
      {
        name: names.inboundListener,
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': hcmType,
              stat_prefix: names.inboundStatPrefix,
              rds: { config_source: adsConfigSource(), route_config_name: names.inboundRoute },
              http_filters: [...(rbac ? [inboundRbacListenerFilter(settings)] : []), { name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
            },
          },
        ],
        ...(transportSocket ? { transport_socket: transportSocket } : {}),
      },
    ],
  };
}

/**
 * proxylessServerRoute is the route configuration of the service's proxyless servers: every
 * call is served (`non_forwarding_action`: the server answers it itself), under the allow-list
 * where the server enforces one. The override is keyed twice: by the RBAC filter's name, as
 * Envoy and gRFC A39 key `typed_per_filter_config`, and by the filter's type URL, which is how
 * @grpc/grpc-js-xds 1.14 looks overrides up (server.js keys them by the filter's type URL).
 */
export function proxylessServerRoute(spec: ServiceSpec, callers: readonly string[], settings: RenderSettings): EnvoyResource {
  const allowed = proxylessServerEnforcesCallers(spec, settings) ? allowedCallers(spec, callers) : undefined;
  const perFilter = allowed ? callerPolicyPerFilterConfig(allowed, settings) : undefined;
  const rbacType = String((inboundRbacListenerFilter(settings).typed_config as Record<string, unknown>)['@type']);
  // The same RBACPerRoute under the filter's name (perFilter's one key) and its type URL.
  const typedPerFilter = perFilter ? { ...perFilter, [rbacType]: Object.values(perFilter)[0] } : undefined;
  return {
    '@type': typeUrls.routes,
    name: names.inboundRoute,
    virtual_hosts: [
      {
        name: names.inboundRoute,
        domains: ['*'],
        routes: [{ match: { prefix: '' }, non_forwarding_action: {}, ...(typedPerFilter ? { typed_per_filter_config: typedPerFilter } : {}) }],
      },
    ],
  };
}

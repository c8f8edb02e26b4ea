import { edgeDefaults } from '../model/defaults';
import { EnvoyResource, typeUrls } from '../envoy/resources';
import { names } from './names';

/**
 * A gateway's health listener: what its load balancer's health checks ask, on a port of its
 * own (`edgeDefaults.gatewayHealthPort`, 15021) so that no gateway route can shadow it and no
 * health check reaches a mesh service. Envoy opens its listeners only once its first
 * configuration has arrived and its clusters have warmed, so an answer means this Envoy has
 * its routes; it answers from Envoy itself (direct responses, no cluster), plain HTTP/1.1 or
 * HTTP/2, and gRPC health checks (an ALB target group of protocol version gRPC) with
 * `grpc-status: 0`. Plaintext: the load balancer's health checker presents no client
 * certificate, and the answer says nothing but "up".
 */

const hcmType = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const routerType = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

/** gatewayHealthPath is the path HTTP health checks ask (any path answers; this one is what the CDK construct configures). */
export const gatewayHealthPath = '/healthz/ready';
/** gatewayGrpcHealthPath is the path an ALB's gRPC health checks ask by default. */
export const gatewayGrpcHealthPath = '/AWS.ALB/healthcheck';

/** gatewayHealthListener is the listener on the health port: 200 to every request, gRPC-shaped to gRPC ones. */
export function gatewayHealthListener(): EnvoyResource {
  const name = names.gatewayHealthListener;
  const header = (key: string, value: string) => ({ header: { key, value }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
  return {
    '@type': typeUrls.listeners,
    name,
    address: { socket_address: { address: '0.0.0.0', port_value: edgeDefaults.gatewayHealthPort } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': hcmType,
              stat_prefix: name,
              codec_type: 'AUTO',
              route_config: {
                name,
                virtual_hosts: [
                  {
                    name,
                    domains: ['*'],
                    routes: [
                      {
                        match: { prefix: '/', grpc: {} },
                        direct_response: { status: 200 },
                        response_headers_to_add: [header('content-type', 'application/grpc'), header('grpc-status', '0')],
                      },
                      { match: { prefix: '/' }, direct_response: { status: 200, body: { inline_string: 'ok\n' } } },
                    ],
                  },
                ],
              },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
            },
          },
        ],
      },
    ],
  };
}

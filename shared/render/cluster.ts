import { Protocol, ServiceSpec } from '../model/spec';
import { EnvoyResource } from '../store/records';
import { typeUrls } from '../xds/types';
import { names } from './names';
import { RenderSettings, restConfigSource } from './settings';

const httpProtocolOptionsType = 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions';

/** usesHttp2 is true where the upstream speaks HTTP/2 (gRPC is HTTP/2). */
export const usesHttp2 = (protocol: Protocol) => protocol === 'http2' || protocol === 'grpc';

/** upstreamProtocolOptions makes a cluster speak HTTP/2 to its hosts where the protocol needs it. */
function upstreamProtocolOptions(protocol: Protocol): Record<string, unknown> {
  if (!usesHttp2(protocol)) return {};
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': httpProtocolOptionsType,
        explicit_http_config: { http2_protocol_options: {} },
      },
    },
  };
}

/**
 * dependencyCluster renders the cluster a caller uses to reach a dependency: EDS, so host
 * changes apply in place and keep connections and health state.
 */
export function dependencyCluster(dependency: ServiceSpec, settings: RenderSettings): EnvoyResource {
  return {
    '@type': typeUrls.clusters,
    name: names.serviceCluster(dependency.name),
    type: 'EDS',
    eds_cluster_config: {
      eds_config: restConfigSource(settings),
      service_name: names.serviceCluster(dependency.name),
    },
    connect_timeout: '1s',
    lb_policy: 'ROUND_ROBIN',
    ...upstreamProtocolOptions(dependency.protocol),
  };
}

/** localAppCluster renders the cluster of the payload on this host, where inbound traffic goes. */
export function localAppCluster(spec: ServiceSpec): EnvoyResource {
  return {
    '@type': typeUrls.clusters,
    name: names.localAppCluster,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: names.localAppCluster,
      endpoints: [
        { lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: spec.appPort } } } }] },
      ],
    },
    ...upstreamProtocolOptions(spec.protocol),
  };
}

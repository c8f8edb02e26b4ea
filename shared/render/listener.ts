import { Dependency, ServiceSpec } from '../model/spec';
import { EnvoyResource } from '../store/records';
import { typeUrls } from '../xds/types';
import { names } from './names';
import { RenderSettings, restConfigSource } from './settings';

const hcmType = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const tcpProxyType = 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy';
const routerType = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';

function httpConnectionManager(statPrefix: string, routeName: string, settings: RenderSettings): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.http_connection_manager',
    typed_config: {
      '@type': hcmType,
      stat_prefix: statPrefix,
      codec_type: 'AUTO',
      rds: { config_source: restConfigSource(settings), route_config_name: routeName },
      http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': routerType } }],
    },
  };
}

function tcpProxy(statPrefix: string, cluster: string): Record<string, unknown> {
  return {
    name: 'envoy.filters.network.tcp_proxy',
    typed_config: { '@type': tcpProxyType, stat_prefix: statPrefix, cluster },
  };
}

function listener(name: string, address: string, port: number, filter: Record<string, unknown>): EnvoyResource {
  return {
    '@type': typeUrls.listeners,
    name,
    address: { socket_address: { address, port_value: port } },
    filter_chains: [{ filters: [filter] }],
  };
}

/** inboundListener accepts mesh traffic on every interface at the service's inbound port. */
export function inboundListener(spec: ServiceSpec, settings: RenderSettings): EnvoyResource {
  const filter =
    spec.protocol === 'tcp'
      ? tcpProxy(names.inboundStatPrefix, names.localAppCluster)
      : httpConnectionManager(names.inboundStatPrefix, names.inboundRoute, settings);
  return listener(names.inboundListener, '0.0.0.0', spec.inboundPort, filter);
}

/** outboundListener is where the payload reaches one dependency: loopback only, at its local port. */
export function outboundListener(dep: Dependency, dependency: ServiceSpec, settings: RenderSettings): EnvoyResource {
  const statPrefix = names.outboundStatPrefix(dependency.name);
  const filter =
    dependency.protocol === 'tcp'
      ? tcpProxy(statPrefix, names.serviceCluster(dependency.name))
      : httpConnectionManager(statPrefix, names.outboundRoute(dependency.name), settings);
  return listener(names.outboundListener(dependency.name), '127.0.0.1', dep.localPort, filter);
}

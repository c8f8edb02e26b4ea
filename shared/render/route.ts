import { ServiceSpec } from '../model/spec';
import { EnvoyResource } from '../store/records';
import { typeUrls } from '../xds/types';
import { names } from './names';

/** routeConfiguration renders a route table that sends everything to one cluster. */
function routeConfiguration(name: string, cluster: string): EnvoyResource {
  return {
    '@type': typeUrls.routes,
    name,
    virtual_hosts: [
      {
        name,
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster } }],
      },
    ],
  };
}

/** inboundRouteConfiguration routes mesh traffic arriving at this service to its payload. */
export function inboundRouteConfiguration(_spec: ServiceSpec): EnvoyResource {
  return routeConfiguration(names.inboundRoute, names.localAppCluster);
}

/** outboundRouteConfiguration routes the payload's calls to one dependency. */
export function outboundRouteConfiguration(dependency: ServiceSpec): EnvoyResource {
  return routeConfiguration(names.outboundRoute(dependency.name), names.serviceCluster(dependency.name));
}

import { Endpoint, EndpointHealth } from '../model/endpoint';
import { EnvoyResource } from '../store/records';
import { typeUrls } from '../xds/types';

const healthStatus: Record<EndpointHealth, string> = {
  healthy: 'HEALTHY',
  unhealthy: 'UNHEALTHY',
  draining: 'DRAINING',
};

/**
 * clusterLoadAssignment renders the EDS resource of one service: its endpoints grouped by
 * locality (the AZ), each with its health and its labels as `envoy.lb` metadata (what subset
 * load balancing matches on). It depends only on the service's own endpoints, so it is the
 * same for every caller and is rendered and stored once.
 */
export function clusterLoadAssignment(service: string, endpoints: readonly Endpoint[]): EnvoyResource {
  const byZone = new Map<string, Endpoint[]>();
  for (const ep of endpoints) {
    const zone = ep.zone ?? '';
    byZone.set(zone, [...(byZone.get(zone) ?? []), ep]);
  }
  const localities = [...byZone.keys()].sort().map((zone) => ({
    ...(zone ? { locality: { zone } } : {}),
    lb_endpoints: byZone
      .get(zone)!
      .slice()
      .sort((a, b) => compareStrings(a.id, b.id))
      .map(lbEndpoint),
  }));
  return {
    '@type': typeUrls.endpoints,
    cluster_name: service,
    endpoints: localities,
  };
}

function lbEndpoint(ep: Endpoint): Record<string, unknown> {
  const labels = Object.keys(ep.labels).length > 0 ? ep.labels : undefined;
  return {
    endpoint: {
      address: { socket_address: { address: ep.address, port_value: ep.port } },
    },
    health_status: healthStatus[ep.health],
    ...(labels ? { metadata: { filter_metadata: { 'envoy.lb': labels } } } : {}),
  };
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

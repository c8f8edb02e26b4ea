import { endpointWeightLabel, maxEndpointWeight } from '../model/defaults';
import { Endpoint, EndpointHealth } from '../model/endpoint';
import { EnvoyResource, typeUrls } from '../envoy/resources';

const healthStatus: Record<EndpointHealth, string> = {
  healthy: 'HEALTHY',
  unhealthy: 'UNHEALTHY',
  draining: 'DRAINING',
};

/**
 * clusterLoadAssignment renders the EDS resource of one service: its endpoints grouped by
 * locality (the AZ), each with its health and its labels as `envoy.lb` metadata (what subset
 * load balancing matches on) and its load-balancing weight (the `weight` label, 1 to 128,
 * else 1). DRAINING endpoints stay listed so Envoy finishes their requests but sends no new
 * ones. It depends only on the service's own endpoints, so it is the same for every caller
 * and is rendered and stored once.
 */
export function clusterLoadAssignment(service: string, endpoints: readonly Endpoint[]): EnvoyResource {
  const byZone = new Map<string, Endpoint[]>();
  for (const ep of endpoints) {
    const zone = ep.zone ?? '';
    const list = byZone.get(zone);
    if (list) list.push(ep);
    else byZone.set(zone, [ep]);
  }
  const localities = [...byZone.keys()].sort().map((zone) => ({
    ...(zone ? { locality: { zone } } : {}),
    lb_endpoints: byZone
      .get(zone)!
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
    load_balancing_weight: endpointWeight(ep),
    ...(labels ? { metadata: { filter_metadata: { 'envoy.lb': labels } } } : {}),
  };
}

/** endpointWeight reads the weight label; anything but a whole number from 1 to 128 counts as 1. */
export function endpointWeight(ep: Endpoint): number {
  const raw = ep.labels[endpointWeightLabel];
  if (raw === undefined || !/^[0-9]{1,3}$/.test(raw)) return 1;
  const weight = Number(raw);
  return weight >= 1 && weight <= maxEndpointWeight ? weight : 1;
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

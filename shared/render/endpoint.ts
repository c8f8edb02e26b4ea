import { endpointWeightLabel, maxEndpointWeight } from '../model/defaults';
import { Endpoint, EndpointHealth } from '../model/endpoint';
import { EnvoyResource, typeUrls } from '../envoy/resources';

/**
 * EndpointView is what rendering reads of an endpoint: where it is, its zone, health and
 * labels (not where its state came from), so a stored assignment can keep just this.
 */
export type EndpointView = Pick<Endpoint, 'id' | 'address' | 'port' | 'zone' | 'health' | 'labels'>;

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
export function clusterLoadAssignment(service: string, endpoints: readonly EndpointView[]): EnvoyResource {
  const byZone = new Map<string, EndpointView[]>();
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

/** lbEndpoint renders one endpoint of an assignment (its size is what a stored assignment budgets by). */
export function lbEndpoint(ep: EndpointView): Record<string, unknown> {
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
export function endpointWeight(ep: Pick<Endpoint, 'labels'>): number {
  const raw = ep.labels[endpointWeightLabel];
  if (raw === undefined || !/^[0-9]{1,3}$/.test(raw)) return 1;
  const weight = Number(raw);
  return weight >= 1 && weight <= maxEndpointWeight ? weight : 1;
}

const compareStrings = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

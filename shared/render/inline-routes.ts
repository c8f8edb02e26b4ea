import { EnvoyResource, SnapshotResources } from '../envoy/resources';
import { InconsistentSnapshotError } from '../errors';

/**
 * inlineRoutes moves each route configuration into the HTTP connection managers that name it
 * over RDS (`rds` becomes `route_config`), for `routeDelivery: 'inline'`: the snapshot then has
 * no RDS resources, and an Envoy polls no RDS. Pure: the input is not changed. A listener that
 * names a route configuration the snapshot lacks is an inconsistent render, not a silent drop.
 */
export function inlineRoutes(resources: SnapshotResources, service: string): SnapshotResources {
  const routes = new Map((resources.routes ?? []).map((r) => [String(r.name), r]));
  const missing: string[] = [];
  const inline = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(inline);
    if (!value || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === 'rds' && v && typeof v === 'object' && 'route_config_name' in v) {
        const name = String((v as { route_config_name: unknown }).route_config_name);
        const route = routes.get(name);
        if (!route) {
          missing.push(name);
          continue;
        }
        const { '@type': _type, ...body } = route;
        out.route_config = body;
      } else {
        out[k] = inline(v);
      }
    }
    return out;
  };
  const listeners = (resources.listeners ?? []).map((l) => inline(l) as EnvoyResource);
  if (missing.length > 0) {
    throw new InconsistentSnapshotError(service, missing.map((n) => `a listener uses route configuration "${n}", which was not rendered`));
  }
  return { ...resources, listeners, routes: [] };
}

import { EndpointHealth } from '../model/endpoint';
import { CatalogRepository, EndpointRepository } from '../store/repositories';

/** ZoneEndpoints are one service's live endpoints in one zone, with counts by health. */
export interface ZoneEndpoints {
  /** The availability zone; '' when the endpoints did not say. */
  readonly zone: string;
  readonly counts: Readonly<Record<EndpointHealth, number>>;
  readonly endpoints: readonly { readonly id: string; readonly address: string; readonly port: number; readonly health: EndpointHealth; readonly source: string }[];
}

export interface ServiceEndpoints {
  readonly service: string;
  readonly zones: readonly ZoneEndpoints[];
}

/**
 * endpointsReport tells, per service (or for one), where its instances run: live endpoints by
 * zone with their health, as the lifecycle events and the reconciler recorded them (tombstones
 * left out). What the mesh page and operators read; Envoys get the same through EDS.
 */
export async function endpointsReport(store: Pick<CatalogRepository, 'listServices'> & Pick<EndpointRepository, 'listEndpoints'>, only?: string): Promise<{ services: ServiceEndpoints[] }> {
  const names = only ? [only] : (await store.listServices()).map((r) => r.spec.name).sort();
  const services = await Promise.all(
    names.map(async (service): Promise<ServiceEndpoints> => {
      const byZone = new Map<string, ZoneEndpoints['endpoints'][number][]>();
      for (const stored of await store.listEndpoints(service)) {
        if (stored.removed) continue;
        const ep = stored.endpoint;
        const zone = ep.zone ?? '';
        byZone.set(zone, [...(byZone.get(zone) ?? []), { id: ep.id, address: ep.address, port: ep.port, health: ep.health, source: ep.source.kind }]);
      }
      const zones = [...byZone.keys()].sort().map((zone) => {
        const endpoints = byZone.get(zone)!.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        const counts = { healthy: 0, unhealthy: 0, draining: 0 };
        for (const ep of endpoints) counts[ep.health]++;
        return { zone, counts, endpoints };
      });
      return { service, zones };
    }),
  );
  return { services };
}

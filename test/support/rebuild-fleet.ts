import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { clusterLoadAssignment } from '../../shared/render/endpoint';
import { MeshStore } from '../../shared/store/mesh-store';

/** The five services of the rebuild tests, each calling the one before. */
export const rebuildFleetNames = ['a', 'b', 'c', 'd', 'e'];

/**
 * seedRebuildFleet declares the five services in a new store, each with one endpoint written
 * without its fold (as a function that stopped half-way leaves it), so only a rebuild renders
 * their assignments.
 */
export async function seedRebuildFleet(newStore: () => Promise<MeshStore>): Promise<MeshStore> {
  const store = await newStore();
  const names = rebuildFleetNames;
  for (const [i, name] of names.entries()) {
    await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: i > 0 ? [{ service: names[i - 1], localPort: 9001 }] : [] }, defaultRenderSettings);
    await store.applyEndpointChange({
      kind: 'upsert',
      endpoint: { service: name, id: `i-0${i}`, address: `10.0.0.${i + 1}`, port: 15000, health: 'healthy', labels: {}, source: { kind: 'ec2-instance', eventId: `e${i}`, eventTime: '2026-11-25T10:00:00Z', orderingKey: 1 } },
    });
  }
  return store;
}

/** served is the assignment a poll of `service` gets. */
export const served = async (store: MeshStore, service: string) => (await store.getEndpointAssignments([service])).get(service)?.resource;

/** truth is the assignment `service`'s stored endpoints call for. */
export const truth = async (store: MeshStore, service: string) =>
  clusterLoadAssignment(service, (await store.listEndpoints(service)).flatMap((s) => (s.removed ? [] : [s.endpoint])));

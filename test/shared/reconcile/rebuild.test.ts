import { rebuildFleet } from '../../../shared/reconcile/rebuild';
import { declareService } from '../../../shared/state/catalog';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { clusterLoadAssignment } from '../../../shared/render/endpoint';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';

const dynamo = useDynalite();
const names = ['a', 'b', 'c', 'd', 'e'];

async function fleet(): Promise<MeshStore> {
  const store = await dynamo.newStore();
  for (const [i, name] of names.entries()) {
    await declareService(store, { name, inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: i > 0 ? [{ service: names[i - 1], localPort: 9001 }] : [] }, defaultRenderSettings);
    // An endpoint written without its fold, as a function that stopped half-way leaves it.
    await store.applyEndpointChange({
      kind: 'upsert',
      endpoint: { service: name, id: `i-0${i}`, address: `10.0.0.${i + 1}`, port: 15000, health: 'healthy', labels: {}, source: { kind: 'ec2-instance', eventId: `e${i}`, eventTime: '2026-11-25T10:00:00Z', orderingKey: 1 } },
    });
  }
  return store;
}

const served = async (store: MeshStore, service: string) => (await store.getEndpointAssignments([service])).get(service)?.resource;
const truth = async (store: MeshStore, service: string) => clusterLoadAssignment(service, (await store.listEndpoints(service)).flatMap((s) => (s.removed ? [] : [s.endpoint])));

describe('rebuildFleet', () => {
  it('renders every snapshot and every assignment again, page by page', async () => {
    const store = await fleet();
    const report = await rebuildFleet(store, defaultRenderSettings, { pageSize: 2, concurrency: 2 });
    expect(report).toEqual({ services: 5, snapshots: 5, assignments: 5, overLimit: 0, errors: [], failed: [] });
    for (const name of names) expect(await served(store, name)).toEqual(await truth(store, name));
  });

  it('stops at its deadline between pages and resumes where it stopped', async () => {
    const store = await fleet();
    let clock = 0;
    // Each page read of the clock moves it on: the deadline falls after two pages.
    const first = await rebuildFleet(store, defaultRenderSettings, { pageSize: 2, concurrency: 1, deadlineMs: 2, now: () => clock++ });
    expect(first).toMatchObject({ assignments: 4, next: 'd' });
    expect(await served(store, 'e')).not.toEqual(await truth(store, 'e'));
    const rest = await rebuildFleet(store, defaultRenderSettings, { pageSize: 2, startAfter: first.next! });
    expect(rest).toEqual({ services: 5, snapshots: 1, assignments: 1, overLimit: 0, errors: [], failed: [] });
    expect(await served(store, 'e')).toEqual(await truth(store, 'e'));
  });
});

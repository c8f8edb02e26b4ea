import { rebuildFleet } from '../../../shared/reconcile/rebuild';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { useDynalite } from '../../support/dynamo';
import { rebuildFleetNames, seedRebuildFleet, served, truth } from '../../support/rebuild-fleet';

const dynamo = useDynalite();
const names = rebuildFleetNames;

const fleet = () => seedRebuildFleet(() => dynamo.newStore());

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

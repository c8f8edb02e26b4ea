import { RebuildAdvance, RebuildDriverStore, advanceRebuild, requestRebuild } from '../../../shared/reconcile/rebuild-driver';
import { renderDigest } from '../../../shared/reconcile/render-digest';
import { RenderSettings, defaultRenderSettings } from '../../../shared/render/settings';
import { MeshStore } from '../../../shared/store/mesh-store';
import { useDynalite } from '../../support/dynamo';
import { rebuildFleetNames, seedRebuildFleet, served, truth } from '../../support/rebuild-fleet';
import { faultyDynamoDb } from '../../support/dynamo-faults';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../../shared/store/layout';

const dynamo = useDynalite();
const names = rebuildFleetNames;
const digest = renderDigest(defaultRenderSettings);
const inline: RenderSettings = { ...defaultRenderSettings, routeDelivery: 'inline' };

const fleet = () => seedRebuildFleet(() => dynamo.newStore());

/** A clock that moves one millisecond each time it is read: every page and checkpoint costs time. */
function tickingClock(start = Date.parse('2026-11-25T12:00:00Z')) {
  let t = start;
  return { now: () => t++, peek: () => t, skip: (ms: number) => (t += ms) };
}

/** invoke runs one driver invocation of `budget` clock reads, as the handler does with its remaining time. */
function invoke(store: RebuildDriverStore, clock: { now: () => number; peek: () => number }, owner: string, settings = defaultRenderSettings, budget = 6) {
  const start = clock.peek();
  return advanceRebuild(
    { store, settings, digest: renderDigest(settings), now: clock.now, owner },
    { deadlineMs: start + budget, leaseUntilMs: start + budget + 5, pageSize: 1, concurrency: 1, chunkSize: 2 },
  );
}

/** untilSettled invokes the driver until it has nothing left to do (bounded), returning every outcome. */
async function untilSettled(store: RebuildDriverStore, clock: ReturnType<typeof tickingClock>, settings = defaultRenderSettings): Promise<RebuildAdvance[]> {
  const outcomes: RebuildAdvance[] = [];
  for (let i = 0; i < 50; i++) {
    const step = await invoke(store, clock, `invocation-${i}`, settings);
    outcomes.push(step);
    if (step.outcome === 'idle') return outcomes;
  }
  throw new Error(`the rebuild did not settle in 50 invocations: ${outcomes.map((o) => o.outcome).join(', ')}`);
}

describe('advanceRebuild', () => {
  it('completes a rebuild split over several invocations exactly once, each service rendered once', async () => {
    const store = await fleet();
    const clock = tickingClock();
    const outcomes = await untilSettled(store, clock);
    const kinds = outcomes.map((o) => o.outcome);
    expect(kinds.filter((k) => k === 'advanced').length).toBeGreaterThan(1);
    expect(kinds.filter((k) => k === 'finished')).toHaveLength(1);
    expect(kinds.at(-1)).toBe('idle');
    expect(kinds.slice(kinds.indexOf('finished') + 1)).toEqual(['idle']);
    const state = (await store.getRebuild())!.state;
    expect(state).toMatchObject({ renderedDigest: digest, last: { digest, reason: 'first', status: 'done', services: 5, snapshots: 5, assignments: 5, errorCount: 0, failed: [] } });
    expect(state.last!.slices).toBe(kinds.filter((k) => k !== 'idle').length);
    expect(state.current).toBeUndefined();
    expect(state.lease).toBeUndefined();
    expect(outcomes.reduce((sum, o) => sum + o.slice.services, 0)).toBe(5);
    for (const name of names) expect(await served(store, name)).toEqual(await truth(store, name));
  });

  it('lets one of two concurrent invocations advance the run, the other answers busy or idle', async () => {
    const store = await fleet();
    const now = () => Date.parse('2026-11-25T12:00:00Z');
    const drive = (owner: string) =>
      advanceRebuild({ store, settings: defaultRenderSettings, digest, now, owner }, { deadlineMs: now() + 60_000, leaseUntilMs: now() + 90_000, pageSize: 1, concurrency: 2 });
    const outcomes = (await Promise.all([drive('first'), drive('second')])).map((o) => o.outcome).sort();
    expect(outcomes.filter((o) => o === 'finished')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'busy' || o === 'idle')).toHaveLength(1);
    expect((await store.getRebuild())!.state.last).toMatchObject({ services: 5, snapshots: 5, assignments: 5, slices: 1 });
  });

  it('leaves a run alone while another invocation holds a live lease, and takes it over once the lease has run out', async () => {
    const store = await fleet();
    const clock = tickingClock();
    // The first invocation stops after a few pages, as if its time ran out, keeping its lease
    // as an invocation that died would.
    const first = await invoke(store, clock, 'first');
    expect(first.outcome).toBe('advanced');
    const stored = (await store.getRebuild())!;
    const until = clock.peek() + 1_000;
    expect(await store.putRebuild({ ...stored.state, lease: { owner: 'first', until: new Date(until).toISOString() } }, stored.revision)).toBe(true);
    const blocked = await invoke(store, clock, 'second');
    expect(blocked.outcome).toBe('busy');
    expect((await store.getRebuild())!.revision).toBe(stored.revision + 1);
    clock.skip(2_000);
    const rest = await untilSettled(store, clock);
    expect(rest.filter((o) => o.outcome === 'finished')).toHaveLength(1);
    expect((await store.getRebuild())!.state.last).toMatchObject({ services: 5, status: 'done' });
  });

  it('reports a failing page, goes on with the others and renders it again in a retry round', async () => {
    const plain = await fleet();
    const faults = faultyDynamoDb(dynamo.db().endpoint, plain.tableName, { maxAttempts: 1 });
    const faulty = new MeshStore(faults.doc, plain.tableName);
    // The fleet through the faulty client; the rebuild state through the plain one.
    const store: RebuildDriverStore = { ...faulty, getRebuild: plain.getRebuild, putRebuild: plain.putRebuild };
    const clock = tickingClock();
    // The first snapshot the rebuild writes (service a's, pages of one service) is throttled.
    faults.throttle(1, ['PutItem']);
    const outcomes = await untilSettled(store, clock);
    const errors = outcomes.flatMap((o) => o.slice.errors);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^services a\.\.a: /);
    const last = (await plain.getRebuild())!.state.last!;
    expect(last).toMatchObject({ status: 'done', services: 5, errorCount: 1, retryRounds: 1, failed: [], retrying: [] });
    expect(last.errors[0]).toBe(errors[0]);
    for (const name of names) expect(await served(plain, name)).toEqual(await truth(plain, name));
    expect((await plain.getSnapshot('a'))?.renderedAt).toBeDefined();
  });

  it('finishes with the services that kept failing reported after its retry rounds', async () => {
    const store = await fleet();
    // A stored snapshot of a that cannot be read: every render of a's page fails on it.
    await dynamo.db().doc.send(new PutCommand({ TableName: store.tableName, Item: { ...keys.snapshot('a'), body: 'not gzipped bytes' } }));
    const clock = tickingClock();
    const outcomes = [];
    for (let i = 0; i < 50; i++) {
      const step = await advanceRebuild(
        { store, settings: defaultRenderSettings, digest, now: clock.now, owner: `invocation-${i}` },
        { deadlineMs: clock.peek() + 12, leaseUntilMs: clock.peek() + 20, pageSize: 1, concurrency: 1, chunkSize: 2, maxRetryRounds: 2 },
      );
      outcomes.push(step);
      if (step.outcome === 'finished') break;
    }
    expect(outcomes.at(-1)!.outcome).toBe('finished');
    // The first pass and two retry rounds: three failures of a's page.
    expect(outcomes.flatMap((o) => o.slice.errors)).toEqual([expect.stringMatching(/^services a\.\.a: CorruptItemError/), expect.anything(), expect.anything()]);
    const state = (await store.getRebuild())!.state;
    expect(state.last).toMatchObject({ status: 'done-with-errors', failed: ['a'], retrying: [], retryRounds: 2, services: 4, errorCount: 3 });
    // The run is over: the next invocations do not start it again.
    expect(state.renderedDigest).toBe(digest);
    expect((await invoke(store, clock, 'later')).outcome).toBe('idle');
  });

  it('starts a rebuild when the render settings change, and none while they stay the same', async () => {
    const store = await fleet();
    const clock = tickingClock();
    await untilSettled(store, clock);
    const before = (await store.getSnapshot('b'))!;
    const revision = (await store.getRebuild())!.revision;
    expect((await invoke(store, clock, 'same-settings')).outcome).toBe('idle');
    expect((await store.getRebuild())!.revision).toBe(revision);

    const outcomes = await untilSettled(store, clock, inline);
    expect(outcomes.filter((o) => o.outcome === 'finished')).toHaveLength(1);
    const state = (await store.getRebuild())!.state;
    expect(state).toMatchObject({ renderedDigest: renderDigest(inline), last: { reason: 'render-changed', services: 5 } });
    expect(renderDigest(inline)).not.toBe(digest);
    const after = (await store.getSnapshot('b'))!;
    // Routes inline in the listeners: no RDS any more.
    expect(JSON.stringify(before.resources.listeners)).toContain('"rds"');
    expect(JSON.stringify(after.resources.listeners)).not.toContain('"rds"');
    expect(after.versions.listeners).not.toBe(before.versions.listeners);
  });

  it('starts a rebuild an operator asks for, even with unchanged settings, and only one', async () => {
    const store = await fleet();
    const clock = tickingClock();
    await untilSettled(store, clock);
    await requestRebuild(store, new Date(clock.now()));
    expect((await store.getRebuild())!.state.requestedAt).toBeDefined();
    const outcomes = await untilSettled(store, clock);
    expect(outcomes.filter((o) => o.outcome === 'finished')).toHaveLength(1);
    const state = (await store.getRebuild())!.state;
    expect(state.last).toMatchObject({ reason: 'requested', services: 5, status: 'done' });
    expect(state.requestedAt).toBeUndefined();
  });

  it('replaces a run under way when the render digest changes before it finishes', async () => {
    const store = await fleet();
    const clock = tickingClock();
    expect((await invoke(store, clock, 'old-code')).outcome).toBe('advanced');
    const outcomes = await untilSettled(store, clock, inline);
    expect(outcomes.filter((o) => o.outcome === 'finished')).toHaveLength(1);
    const state = (await store.getRebuild())!.state;
    expect(state).toMatchObject({ renderedDigest: renderDigest(inline), last: { digest: renderDigest(inline), reason: 'render-changed', services: 5 } });
  });
});

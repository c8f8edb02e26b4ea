import { declareService } from '../../../shared/state/catalog';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { MeshStore } from '../../../shared/store/mesh-store';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { discover } from '../../../shared/xds/discovery';
import { useDynalite } from '../../support/dynamo';
import { faultyDynamoDb } from '../../support/dynamo-faults';

/**
 * A throttled table must end a poll in an answer inside the function's deadline: the last
 * snapshot the container read, not a Lambda timeout. Throttling is injected below the SDK, so
 * the SDK's own retries (back-off for ProvisionedThroughputExceeded) run as against AWS.
 */
const dynamo = useDynalite();
const poll = { type: 'clusters' as const, node: { id: 'orders-1', cluster: 'orders' }, resourceNames: [], versionInfo: '' };

async function setup(readBudgetMs: number | undefined) {
  const table = (await dynamo.newStore()).tableName;
  // A client that would retry a throttled read for a long time: only the budget can stop it.
  const faults = faultyDynamoDb(dynamo.db().endpoint, table, { maxAttempts: 10 });
  const store = new MeshStore(faults.doc, table);
  await declareService(store, { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
  const cache = new SnapshotCache(store, { ttlMs: 0, ...(readBudgetMs !== undefined ? { readBudgetMs } : {}) });
  return { faults, cache };
}

describe('a poll against a throttled table', () => {
  it('answers from the last snapshot once its read budget is spent, cutting the SDK retries short', async () => {
    const { faults, cache } = await setup(300);
    const first = await discover({ cache }, poll);
    expect(first.kind).toBe('response');
    faults.throttle(1000, ['BatchGetItem']);
    const throttled = await discover({ cache }, poll);
    expect({
      kind: throttled.kind,
      sameVersion: throttled.kind === 'response' && first.kind === 'response' && throttled.versionInfo === first.versionInfo,
      staleServed: cache.stats.staleServed,
    }).toEqual({ kind: 'response', sameVersion: true, staleServed: 1 });
    // Ten attempts were allowed; the budget ended the read long before they were used up.
    expect(faults.calls.filter((c) => c.served === 'throttled').length).toBeLessThan(10);
  });

  it('answers unavailable, never fewer resources, when it has nothing read before', async () => {
    const { faults, cache } = await setup(300);
    faults.throttle(1000, ['BatchGetItem']);
    const answer = await discover({ cache }, poll);
    expect(answer.kind === 'refusal' && answer.refusal.kind).toBe('unavailable');
  });
});

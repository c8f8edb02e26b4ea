import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { typeUrls } from '../../shared/envoy/resources';
import { MeshStore } from '../../shared/store/mesh-store';
import { startAdsServer } from '../../server/ads-server';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { faultyDynamoDb } from '../support/dynamo-faults';
import { orders, payments } from './fixtures';

const dynalite = useDynalite();

/**
 * A stream whose question the core could not answer because the table was unavailable (its
 * read failed): nothing changes in the table to wake it, so it asks again by itself, with a
 * back-off, and is answered once the table answers.
 */
describe('a stream answered unavailable', () => {
  it('asks again after a back-off and is answered once the table is back, without any change to the table', async () => {
    const store = await dynalite.newStore();
    for (const spec of [payments, orders]) await declareService(store, spec, defaultRenderSettings);
    // One attempt per read: the throttled reads fail at once.
    const faults = faultyDynamoDb(dynalite.db().endpoint, store.tableName, { maxAttempts: 1 });
    const serverStore = new MeshStore(faults.doc, store.tableName);
    const server = await startAdsServer({ cache: new SnapshotCache(serverStore, { ttlMs: 0 }), tracker: new NodeTracker(store, { minWriteGapMs: 0 }) }, '127.0.0.1', 0);
    const client = new AdsTestClient(server.port);
    try {
      faults.throttle(1_000_000, ['BatchGetItem', 'GetItem']);
      client.send({ node: { id: 'orders-1', cluster: 'orders', user_agent_name: 'envoy' }, type_url: typeUrls.clusters, resource_names: [] });
      // Bounded wait for two failed reads: the first ask and at least one retry.
      for (let i = 0; i < 200 && faults.calls.filter((c) => c.served === 'throttled').length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(faults.calls.filter((c) => c.served === 'throttled').length).toBeGreaterThanOrEqual(2);
      const writesBefore = faults.calls.length;
      faults.throttle(0);
      const answer = await client.next(30_000);
      expect(answer.type_url).toBe(typeUrls.clusters);
      expect(answer.resources?.length).toBeGreaterThan(0);
      // Answered by a read of its own, not by a write it was woken for: the server wrote nothing.
      expect(faults.calls.slice(writesBefore).every((c) => !['PutItem', 'UpdateItem', 'BatchWriteItem'].includes(c.operation))).toBe(true);
    } finally {
      client.close();
      await server.close();
    }
  });
});

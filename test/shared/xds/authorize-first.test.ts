import { declareService } from '../../../shared/state/catalog';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { MeshStore } from '../../../shared/store/mesh-store';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { discover, maxResourceNames } from '../../../shared/xds/discovery';
import { XdsRequest } from '../../../shared/xds/request';
import { Principal } from '../../../shared/xds/authorization';
import { OperationCounter } from '../../../bench/harness';
import { useDynalite } from '../../support/dynamo';

/**
 * A caller learns nothing and costs little before it is authorized: the snapshot that says
 * who may fetch a service is read alone, then nothing else for a refused caller; names are
 * capped; the cache is bounded by bytes; unknown and forbidden services look alike.
 */
const dynamo = useDynalite();
const ordersRole = 'arn:aws:iam::111122223333:role/orders';
const stranger: Principal = { kind: 'iam', arn: 'arn:aws:sts::111122223333:assumed-role/nobody/i-0abc' };
const request = (o: Partial<XdsRequest>): XdsRequest => ({ type: 'endpoints', node: { id: 'n-1', cluster: 'orders' }, resourceNames: [], versionInfo: '', ...o });

let store: MeshStore;
let counter: OperationCounter;
beforeAll(async () => {
  store = await dynamo.newStore();
  counter = new OperationCounter(dynamo.db().doc);
  await declareService(store, { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
  await declareService(
    store,
    { name: 'orders', inboundPort: 15001, appPort: 8081, protocol: 'http', identity: { iamRoleArns: [ordersRole] }, dependencies: [{ service: 'payments', localPort: 9001 }] },
    defaultRenderSettings,
  );
});

const outcome = (a: Awaited<ReturnType<typeof discover>>) => (a.kind === 'refusal' ? `${a.refusal.kind}: ${a.refusal.message}` : a.kind);

describe('authorization before any read', () => {
  it('refuses a principal bound to no service after reading only the snapshot, and caches nothing else', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 60_000 });
    const names = Array.from({ length: maxResourceNames }, (_, i) => `svc-${i}`);
    counter.reset();
    for (let i = 0; i < 21; i++) {
      expect(outcome(await discover({ cache, authMode: 'iam' }, request({ resourceNames: names }), stranger))).toBe(
        'refused: the caller is not allowed to fetch the configuration of "orders"',
      );
    }
    // One read of one snapshot, then the cache: never the 512 names.
    expect(counter.snapshot()).toEqual({ BatchGetItem: 1 });
    expect(cache.cachedBytes).toBeLessThan(20_000);
  });

  it('refuses more names than any service could ask for before reading anything', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 0 });
    counter.reset();
    const answer = await discover({ cache, authMode: 'iam' }, request({ resourceNames: Array.from({ length: 10_000 }, (_, i) => `svc-${i}`) }), stranger);
    expect(outcome(answer)).toBe(`bad-request: 10000 resource_names; a node asks for at most ${maxResourceNames}`);
    expect(counter.snapshot()).toEqual({});
  });

  it('answers an undeclared service exactly as a forbidden one', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 0 });
    const forbidden = await discover({ cache, authMode: 'iam' }, request({ type: 'clusters', node: { id: 'n', cluster: 'orders' } }), stranger);
    const unknown = await discover({ cache, authMode: 'iam' }, request({ type: 'clusters', node: { id: 'n', cluster: 'ghost' } }), stranger);
    expect([outcome(forbidden), outcome(unknown)]).toEqual([
      'refused: the caller is not allowed to fetch the configuration of "orders"',
      'refused: the caller is not allowed to fetch the configuration of "ghost"',
    ]);
  });

  it('still serves an authorized node its endpoints', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 0 });
    const node: Principal = { kind: 'iam', arn: 'arn:aws:sts::111122223333:assumed-role/orders/i-0abc' };
    expect(outcome(await discover({ cache, authMode: 'iam' }, request({ resourceNames: ['payments'] }), node))).toBe('response');
  });

  it('keeps the cache within its byte budget however many services are asked for', async () => {
    const cache = new SnapshotCache(store, { ttlMs: 60_000, maxBytes: 40_000 });
    for (let i = 0; i < 200; i++) await cache.rendered(i % 2 ? 'orders' : `ghost-${i}`);
    await cache.rendered('payments');
    expect(cache.cachedBytes).toBeLessThanOrEqual(40_000);
    expect((await cache.rendered('payments')).snapshot?.identity).toEqual({ iamRoleArns: [] });
  });
});

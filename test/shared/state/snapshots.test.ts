import { declareService } from '../../../shared/state/catalog';
import { planSnapshots, refreshSnapshots } from '../../../shared/state/snapshots';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { useDynalite } from '../../support/dynamo';

const dynalite = useDynalite();

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const ledger = { name: 'ledger', inboundPort: 15000, appPort: 8080, protocol: 'grpc' };
const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

describe('planning snapshots before the spec is written', () => {
  it('plans a pending spec and the services it starts calling, and writes nothing', async () => {
    const store = await dynalite.newStore();
    for (const s of [payments, ledger, orders]) await declareService(store, s, defaultRenderSettings);
    const before = await store.getSnapshot('ledger');
    const pending = parseServiceSpec({ ...orders, dependencies: [...orders.dependencies, { service: 'ledger', localPort: 9002 }] });
    const planned = await planSnapshots(store, ['orders', 'ledger'], defaultRenderSettings, { spec: pending, revision: 2 });

    expect(planned.map((p) => [p.service, p.snapshot.specRevision])).toEqual([
      ['ledger', 1],
      ['orders', 2],
    ]);
    const clusters = (service: string) => planned.find((p) => p.service === service)!.snapshot.resources.clusters!.map((c) => c.name);
    expect(clusters('orders')).toContain('ledger');
    // ledger's allow-list already names orders, although the dependents index does not yet.
    expect(JSON.stringify(planned.find((p) => p.service === 'ledger')!.snapshot.resources.routes)).toContain('orders');
    expect(await store.getSnapshot('ledger')).toEqual(before);
    expect((await store.getService('orders'))?.revision).toBe(1);
  });

  it('skips a service whose dependency is gone, and one that is not declared', async () => {
    const store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    await declareService(store, orders, defaultRenderSettings);
    await store.deleteService((await store.getService('payments'))!);
    expect(await refreshSnapshots(store, ['orders', 'nobody'], defaultRenderSettings)).toEqual([]);
  });

  it('keeps the clusters a render drops as retiring, in both forms, until their time is up by its clock', async () => {
    const store = await dynalite.newStore();
    for (const s of [payments, ledger]) await declareService(store, s, defaultRenderSettings);
    await declareService(store, { ...orders, dependencies: [...orders.dependencies, { service: 'ledger', localPort: 9002 }] }, defaultRenderSettings);
    const limits = { ttlMs: 60_000, max: 10 };
    const t = Date.parse((await store.getSnapshot('orders'))!.renderedAt) + 1000;
    const pending = { spec: parseServiceSpec(orders), revision: 3 };
    const [dropped] = await planSnapshots(store, ['orders'], defaultRenderSettings, pending, { now: () => t, retirement: limits });
    const retiring = dropped!.snapshot.retiringClusters!;
    expect(retiring.map((r) => [r.resource.name, r.retiredAt])).toEqual([['ledger', new Date(t).toISOString()]]);
    expect(dropped!.snapshot.proxyless!.retiringClusters!.length).toBeGreaterThan(0);

    await store.putService(pending.spec, await store.getService('orders'));
    await store.putSnapshot('orders', dropped!.snapshot);
    const carried = await planSnapshots(store, ['orders'], defaultRenderSettings, undefined, { now: () => t + limits.ttlMs - 1, retirement: limits });
    expect(carried[0]!.snapshot.retiringClusters).toEqual(retiring);
    const expired = await planSnapshots(store, ['orders'], defaultRenderSettings, undefined, { now: () => t + limits.ttlMs, retirement: limits });
    expect(expired[0]!.snapshot.retiringClusters).toBeUndefined();
    expect(expired[0]!.snapshot.proxyless!.retiringClusters).toBeUndefined();
  });
});

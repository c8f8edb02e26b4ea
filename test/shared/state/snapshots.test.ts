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
    expect(JSON.stringify(planned.find((p) => p.service === 'ledger')!.snapshot.resources.listeners)).toContain('orders');
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
});

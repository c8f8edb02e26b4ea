import { ConflictError } from '../../../../shared/errors';
import { parseServiceSpec } from '../../../../shared/model/parse-spec';
import { useDynalite } from '../../../support/dynamo';

const dynalite = useDynalite();

const payments = parseServiceSpec({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' });
const orders = parseServiceSpec({
  name: 'orders',
  inboundPort: 15000,
  appPort: 8080,
  protocol: 'http',
  dependencies: [{ service: 'payments', localPort: 9001 }],
});

describe('DynamoCatalog writes a spec only over the revision it read', () => {
  it.each([
    ['a create over an existing spec', async (s: Awaited<ReturnType<typeof dynalite.newStore>>) => s.putService(payments, undefined)],
    [
      'an update over a revision that moved on',
      async (s: Awaited<ReturnType<typeof dynalite.newStore>>) => s.putService(payments, { spec: payments, revision: 0, updatedAt: '' }),
    ],
    [
      'a delete of a revision that moved on',
      async (s: Awaited<ReturnType<typeof dynalite.newStore>>) => s.deleteService({ spec: payments, revision: 7, updatedAt: '' }),
    ],
  ])('refuses %s with a ConflictError', async (_what, write) => {
    const store = await dynalite.newStore();
    const first = await store.putService(payments, undefined);
    await expect(write(store)).rejects.toThrow(new ConflictError('service "payments" was changed concurrently; read it again and retry'));
    expect(await store.getService('payments')).toEqual(first);
  });

  it('keeps its indexes with the spec, and leaves an ECS alias another service took', async () => {
    const store = await dynalite.newStore();
    await store.putService(payments, undefined);
    const stored = await store.putService(orders, undefined);
    expect(await store.listDependents('payments')).toEqual(['orders']);
    expect(await store.serviceForEcsService('orders')).toBe('orders');

    const renamed = parseServiceSpec({ ...orders, dependencies: [], ecs: { serviceName: 'orders-v2' } });
    const updated = await store.putService(renamed, stored);
    expect(await store.listDependents('payments')).toEqual([]);
    expect(await store.serviceForEcsService('orders')).toBeUndefined();
    expect(await store.serviceForEcsService('orders-v2')).toBe('orders');

    const taker = parseServiceSpec({ ...payments, name: 'ledger', ecs: { serviceName: 'orders-v2' } });
    await store.putService(taker, undefined);
    await store.deleteService(updated);
    expect(await store.serviceForEcsService('orders-v2')).toBe('ledger');
  });
});

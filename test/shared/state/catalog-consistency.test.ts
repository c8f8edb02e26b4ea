import { declareService } from '../../../shared/state/catalog';
import { planSnapshots, storeSnapshots } from '../../../shared/state/snapshots';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { MeshStore } from '../../../shared/store/mesh-store';
import { SnapshotCache } from '../../../shared/xds/snapshot-cache';
import { discover } from '../../../shared/xds/discovery';
import { useDynalite } from '../../support/dynamo';
import { faultyDynamoDb } from '../../support/dynamo-faults';

/**
 * A revoked role must lose access, whatever DynamoDB's replicas say. Dynalite is always
 * consistent, so a lagging replica is injected below the SDK (test/support/dynamo-faults.ts):
 * eventually consistent reads see the table as it was before the revocation.
 */
const dynamo = useDynalite();
const settings = defaultRenderSettings;
const compromised = 'arn:aws:iam::111122223333:role/compromised';
const paymentsRole = 'arn:aws:iam::111122223333:role/payments';
const payments = (role: string) => ({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns: [role] } });
const orders = { name: 'orders', inboundPort: 15001, appPort: 8081, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

async function faultyStore() {
  const table = (await dynamo.newStore()).tableName;
  const faults = faultyDynamoDb(dynamo.db().endpoint, table);
  return { faults, store: new MeshStore(faults.doc, table) };
}

/** pollAs asks for payments' clusters as a node whose role is `arn`: what SDS and every type check first. */
async function pollAs(store: MeshStore, arn: string) {
  const answer = await discover(
    { cache: new SnapshotCache(store, { ttlMs: 0 }), authMode: 'iam' },
    { type: 'clusters', node: { id: 'payments-1', cluster: 'payments' }, resourceNames: [], versionInfo: '' },
    { kind: 'iam', arn: arn.replace(':iam::', ':sts::').replace(':role/', ':assumed-role/') + '/i-0abc' },
  );
  return answer.kind === 'refusal' ? answer.refusal.kind : answer.kind;
}

describe('revocations that stick', () => {
  it('keeps a revoked role out when a later render reads specs from a lagging replica', async () => {
    const { faults, store } = await faultyStore();
    await declareService(store, payments(compromised), settings);
    await faults.lag(); // the replica stops here: it still holds payments with the compromised role
    await declareService(store, payments(paymentsRole), settings);
    // orders now calls payments: payments' snapshot is rendered again (its callers changed).
    const result = await declareService(store, orders, settings);
    expect(result.rendered).toContain('payments');
    // Rendering read every spec consistently: none came from the replica.
    expect(faults.calls.filter((c) => c.operation === 'BatchGetItem' && c.served === 'replica')).toEqual([]);
    faults.catchUp(); // what polls read may lag; what was written is what counts here
    expect((await store.getSnapshot('payments'))?.identity).toEqual({ iamRoleArns: [paymentsRole] });
    expect({ compromised: await pollAs(store, compromised), payments: await pollAs(store, paymentsRole) }).toEqual({
      compromised: 'refused',
      payments: 'response',
    });
  });

  it('never lets a slower render of an older spec overwrite the snapshot of a newer one', async () => {
    const { store } = await faultyStore();
    await declareService(store, payments(compromised), settings);
    const current = await store.getService('payments');
    // Two declares race: the first rendered from revision 2, the second from revision 3 and stored first.
    const older = await planSnapshots(store, ['payments'], settings, { spec: { ...current!.spec }, revision: current!.revision + 1 });
    await declareService(store, payments(compromised), settings);
    await declareService(store, payments(paymentsRole), settings);
    expect(await storeSnapshots(store, older)).toEqual([]);
    expect((await store.getSnapshot('payments'))?.identity).toEqual({ iamRoleArns: [paymentsRole] });
  });
});

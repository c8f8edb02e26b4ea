import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { StoreUnavailableError } from '../../../shared/errors';
import { ChangeFeed, secretsChangeVersion, sequenceFloor, snapshotChangeVersion } from '../../../shared/store/change-log';
import { keys } from '../../../shared/store/layout';
import { MeshStore } from '../../../shared/store/mesh-store';
import { createDocumentClient } from '../../../shared/store/dynamodb';
import { declareService } from '../../../shared/state/catalog';
import { applyEndpointChanges } from '../../../shared/state/endpoints';
import { defaultRenderSettings } from '../../../shared/render/settings';
import { endpoint } from '../render/fixtures';
import { useDynalite } from '../../support/dynamo';

const dynalite = useDynalite();

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const orders = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'payments', localPort: 9001 }] };

/** A clock a test moves by hand. */
const manualClock = (start = Date.UTC(2030, 0, 1)) => {
  let t = start;
  return { now: () => t, date: () => new Date(t), advance: (ms: number) => (t += ms) };
};

const secrets = (serial: string) => ({
  certificatePem: 'cert',
  sealedPrivateKey: new Uint8Array([1, 2, 3]),
  trustBundlePem: 'bundle',
  notBefore: '2030-01-01T00:00:00.000Z',
  notAfter: '2030-01-02T00:00:00.000Z',
  serial,
});

describe('the change log', () => {
  it('refuses a feed whose overlap is not longer than a record may take to land (it would skip late records silently)', async () => {
    const store = await dynalite.newStore();
    const now = () => 0;
    expect(() => new ChangeFeed(store.changes, { overlapMs: 1000, now })).toThrow(/must exceed the writers' latest landing \(1000 ms\)/);
    expect(() => new ChangeFeed(store.changes, { overlapMs: 2000, now })).not.toThrow();
  });

  it('gets a record from every write of a rendered item, naming the version written', async () => {
    const store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    await declareService(store, orders, defaultRenderSettings);
    await applyEndpointChanges(store, [{ kind: 'upsert', endpoint: endpoint('payments', 't1', { zone: 'us-east-1a', address: '10.0.0.1' }) }]);
    await store.putServiceSecrets('orders', secrets('0a1b'));
    const records = await store.changes.readSince(0);
    const eds = (await store.getEndpointAssignments(['payments'])).get('payments');
    // A declare renders the service's (empty) assignment and its snapshot; declaring orders
    // re-renders payments, whose allow-list now names orders; then the endpoint, then the secrets.
    expect(records.map((r) => [r.item, r.service])).toEqual([
      ['eds', 'payments'],
      ['snapshot', 'payments'],
      ['eds', 'orders'],
      ['snapshot', 'orders'],
      ['snapshot', 'payments'],
      ['eds', 'payments'],
      ['secrets', 'orders'],
    ]);
    // The newest record of each item names the version stored.
    expect(records.slice(3).map((r) => r.version)).toEqual([
      snapshotChangeVersion(await store.getSnapshot('orders')),
      snapshotChangeVersion(await store.getSnapshot('payments')),
      eds?.version,
      secretsChangeVersion(await store.getServiceSecrets('orders')),
    ]);
    expect(records[1]!.version).not.toBe(records[4]!.version);
    expect([...records.map((r) => r.sequence)].sort()).toEqual(records.map((r) => r.sequence));
  });

  it('records a deleted service’s snapshot and secrets as gone (empty version)', async () => {
    const store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    const record = await store.getService('payments');
    const before = (await store.changes.readSince(0)).length;
    await store.deleteService(record!);
    const after = (await store.changes.readSince(0)).slice(before);
    expect(after.map((r) => [r.item, r.service, r.version])).toEqual([
      ['snapshot', 'payments', ''],
      ['secrets', 'payments', ''],
    ]);
  });

  it('gets no record from a write that a newer one made stale', async () => {
    const store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    const stored = (await store.getSnapshot('payments'))!;
    const count = (await store.changes.readSince(0)).length;
    expect(await store.putSnapshot('payments', { ...stored, specRevision: stored.specRevision - 1 })).toBe(false);
    expect(await store.changes.readSince(0)).toHaveLength(count);
  });

  it('reads by sequence: only the records at or after a time, oldest first, with their TTL set', async () => {
    const clock = manualClock();
    const store = await dynalite.newStore({ now: clock.date, changeLog: { ttlSeconds: 600 } });
    await store.putServiceSecrets('a', secrets('1'));
    clock.advance(1000);
    const second = clock.now();
    await store.putServiceSecrets('b', secrets('2'));
    clock.advance(1000);
    await store.putServiceSecrets('c', secrets('3'));
    const records = await store.changes.readSince(second);
    expect(records.map((r) => [r.service, r.at])).toEqual([
      ['b', second],
      ['c', second + 1000],
    ]);
    const raw = await dynalite.db().doc.send(new GetCommand({ TableName: store.tableName, Key: keys.change(0, records[0]!.sequence) }));
    expect(raw?.Item).toMatchObject({ service: 'b', item: 'secrets', version: '2', expiresAt: Math.floor(second / 1000) + 600 });
    expect(records[0]!.sequence.startsWith(sequenceFloor(second))).toBe(true);
  });

  it('spreads records over shards by service and reads them all back in order', async () => {
    const clock = manualClock();
    const store = await dynalite.newStore({ now: clock.date, changeLog: { shards: 4 } });
    const services = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    for (const s of services) {
      clock.advance(1);
      await store.putServiceSecrets(s, secrets(s));
    }
    expect((await store.changes.readSince(0)).map((r) => r.service)).toEqual(services);
    const single = new MeshStore(dynalite.db().doc, store.tableName, { changeLog: { shards: 1 } });
    // Shard 0 alone holds only some of them: the partitions are really spread.
    expect((await single.changes.readSince(0)).length).toBeLessThan(services.length);
  });

  it('fails the write when the record cannot be appended, after storing the item, and a retry appends it', async () => {
    const good = await dynalite.newStore();
    await declareService(good, payments, defaultRenderSettings);
    const snapshot = (await good.getSnapshot('payments'))!;
    const doc = createDocumentClient({ endpoint: dynalite.db().endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
    let failAppends = true;
    doc.middlewareStack.add(
      (next) => async (args) => {
        const item = (args.input as { Item?: { pk?: unknown } }).Item;
        if (failAppends && typeof item?.pk === 'string' && item.pk.startsWith('CHANGES#')) {
          throw Object.assign(new Error('injected: internal server error'), { name: 'InternalServerError' });
        }
        return next(args);
      },
      { step: 'initialize', name: 'failChangeAppends' },
    );
    const faulty = new MeshStore(doc, good.tableName);
    const count = (await good.changes.readSince(0)).length;
    const rerendered = { ...snapshot, renderedAt: new Date(0).toISOString() };
    await expect(faulty.putSnapshot('payments', rerendered)).rejects.toThrow(StoreUnavailableError);
    await expect(faulty.putServiceSecrets('payments', secrets('ff'))).rejects.toThrow(StoreUnavailableError);
    expect((await good.getSnapshot('payments'))?.renderedAt).toBe(rerendered.renderedAt);
    expect(await good.changes.readSince(0)).toHaveLength(count);
    failAppends = false;
    expect(await faulty.putSnapshot('payments', rerendered)).toBe(true);
    expect((await good.changes.readSince(0)).slice(count).map((r) => r.item)).toEqual(['snapshot']);
  });

  it('appends again, stamped anew, a record that took longer to land than readers allow, and fails when it keeps doing so', async () => {
    // The writer's clock moves 600 ms at each reading: each put "takes" 600 ms, then 1,200.
    let t = Date.UTC(2030, 0, 1);
    let step = 600;
    const store = await dynalite.newStore({ now: () => new Date((t += step)), changeLog: { maxWriteLatencyMs: 1000 } });
    await store.putServiceSecrets('a', secrets('1'));
    expect((await store.changes.readSince(0)).map((r) => r.service)).toEqual(['a']);
    step = 1200;
    await expect(store.putServiceSecrets('b', secrets('2'))).rejects.toThrow(StoreUnavailableError);
    expect((await store.changes.readSince(0)).filter((r) => r.service === 'b')).toHaveLength(3);
  });
});

describe('ChangeFeed', () => {
  it('returns each record once, and a record stamped before its last read by a writer whose clock is behind, within the overlap', async () => {
    const reader = manualClock();
    const writer = manualClock();
    const store = await dynalite.newStore({ now: writer.date });
    const skewed = new MeshStore(dynalite.db().doc, store.tableName, { now: () => new Date(reader.now() - 1500) });
    const feed = new ChangeFeed(store.changes, { overlapMs: 2000, now: reader.now });
    await store.putServiceSecrets('a', secrets('1'));
    expect((await feed.next()).map((r) => r.service)).toEqual(['a']);
    reader.advance(500);
    writer.advance(500);
    // Written now, by a clock 1.5 s behind the reader's: it sorts before the reader's last read.
    await skewed.putServiceSecrets('late', secrets('2'));
    await store.putServiceSecrets('b', secrets('3'));
    expect((await feed.next()).map((r) => r.service)).toEqual(['late', 'b']);
    reader.advance(500);
    expect(await feed.next()).toEqual([]);
    reader.advance(5000);
    expect(await feed.next()).toEqual([]);
    expect(feed.windowSize).toBe(0);
  });

  it('misses a record whose writer is further behind than the overlap (the safety sweep’s case)', async () => {
    const reader = manualClock();
    const store = await dynalite.newStore({ now: reader.date });
    const skewed = new MeshStore(dynalite.db().doc, store.tableName, { now: () => new Date(reader.now() - 5000) });
    const feed = new ChangeFeed(store.changes, { overlapMs: 2000, now: reader.now });
    expect(await feed.next()).toEqual([]);
    reader.advance(500);
    await skewed.putServiceSecrets('too-late', secrets('1'));
    expect(await feed.next()).toEqual([]);
  });

  it('reads the same span again after a failed read', async () => {
    const reader = manualClock();
    const store = await dynalite.newStore({ now: reader.date });
    let fail = true;
    const feed = new ChangeFeed(
      { readSince: (from) => (fail ? Promise.reject(new StoreUnavailableError('readChanges')) : store.changes.readSince(from)) },
      { overlapMs: 2000, now: reader.now },
    );
    await store.putServiceSecrets('a', secrets('1'));
    reader.advance(10_000);
    await expect(feed.next()).rejects.toThrow(StoreUnavailableError);
    fail = false;
    expect((await feed.next()).map((r) => r.service)).toEqual(['a']);
  });
});

import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { useDynalite } from './dynamo';
import { faultyDynamoDb } from './dynamo-faults';

/** The fault layer itself: a lagging replica serves old items to eventually consistent reads only; throttling is retried by the SDK. */
describe('fault-injecting DynamoDB client', () => {
  const dynamo = useDynalite();

  it('answers eventually consistent reads from the lagging replica and consistent ones from the table', async () => {
    const store = await dynamo.newStore();
    const faults = faultyDynamoDb(dynamo.db().endpoint, store.tableName);
    const key = { pk: 'K', sk: 'S' };
    await faults.doc.send(new PutCommand({ TableName: store.tableName, Item: { ...key, v: 1 } }));
    await faults.lag();
    await faults.doc.send(new PutCommand({ TableName: store.tableName, Item: { ...key, v: 2 } }));
    const read = async (consistent: boolean) => (await faults.doc.send(new GetCommand({ TableName: store.tableName, Key: key, ConsistentRead: consistent }))).Item?.v;
    expect({ eventual: await read(false), consistent: await read(true) }).toEqual({ eventual: 1, consistent: 2 });
    faults.catchUp();
    expect(await read(false)).toBe(2);
  });

  it('throttles the next requests with the error DynamoDB sends, which the SDK retries', async () => {
    const store = await dynamo.newStore();
    const faults = faultyDynamoDb(dynamo.db().endpoint, store.tableName, { maxAttempts: 3 });
    faults.throttle(2);
    await faults.doc.send(new PutCommand({ TableName: store.tableName, Item: { pk: 'a', sk: 'b' } }));
    expect(faults.calls.map((c) => c.served)).toEqual(['throttled', 'throttled', 'table']);
    faults.throttle(3);
    await expect(faults.doc.send(new GetCommand({ TableName: store.tableName, Key: { pk: 'a', sk: 'b' } }))).rejects.toMatchObject({
      name: 'ProvisionedThroughputExceededException',
    });
  });
});

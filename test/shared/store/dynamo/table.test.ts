import { ConditionFailedError, StoreUnavailableError } from '../../../../shared/errors';
import { StateTable, written } from '../../../../shared/store/dynamo/table';
import { ensureTable } from '../../../../shared/store/dynamodb';
import { useDynalite } from '../../../support/dynamo';

const dynalite = useDynalite();

async function newTable(): Promise<StateTable> {
  const name = `t-${Math.random().toString(36).slice(2)}`;
  await ensureTable(dynalite.db().doc, name);
  return new StateTable(dynalite.db().doc, name);
}

const key = { pk: 'P', sk: 'S' };

describe('StateTable, the one place DynamoDB failures become domain errors', () => {
  type Write = (t: StateTable) => Promise<unknown>;
  const cases: [string, Write, boolean][] = [
    ['a put whose condition holds', (t) => t.put('op', { Item: { ...key, n: 1 }, ConditionExpression: 'attribute_not_exists(pk)' }), true],
    ['a put whose condition fails', (t) => t.put('op', { Item: { ...key, n: 1 }, ConditionExpression: 'attribute_exists(pk)' }), false],
    ['an update whose condition holds', (t) => t.update('op', { Key: key, UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } }), true],
    [
      'an update whose condition fails',
      (t) => t.update('op', { Key: key, UpdateExpression: 'SET n = :n', ConditionExpression: 'n = :n', ExpressionAttributeValues: { ':n': 2 } }),
      false,
    ],
    ['a delete whose condition fails', (t) => t.delete('op', { Key: key, ConditionExpression: 'attribute_exists(pk)' }), false],
    ['an unconditional delete', (t) => t.delete('op', { Key: key }), true],
  ];

  it.each(cases)('written() says whether %s wrote', async (_what, write, wrote) => {
    expect(await written(write(await newTable()))).toBe(wrote);
  });

  it.each(cases.filter(([, , wrote]) => !wrote))('%s is a ConditionFailedError naming the operation', async (_what, write) => {
    const failure = write(await newTable());
    await expect(failure).rejects.toBeInstanceOf(ConditionFailedError);
    await expect(failure).rejects.toMatchObject({ operation: 'op', cause: expect.objectContaining({ name: 'ConditionalCheckFailedException' }) });
  });

  it('turns any other failure into StoreUnavailableError, which written() does not swallow', async () => {
    const missing = new StateTable(dynalite.db().doc, 'no-such-table');
    await expect(written(missing.put('putThing', { Item: key }))).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(missing.get('getThing', key)).rejects.toThrow('state store unavailable during getThing');
  });

  it('reads every page of a query and every batch of keys', async () => {
    const t = await newTable();
    const keys = Array.from({ length: 130 }, (_, i) => ({ pk: 'P', sk: `S${String(i).padStart(3, '0')}` }));
    for (const k of keys) await t.put('op', { Item: { ...k, pad: 'x'.repeat(9000) } });
    expect(await t.query('op', { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': 'P' } })).toHaveLength(130);
    expect(await t.batchGet('op', keys)).toHaveLength(130);
  });
});

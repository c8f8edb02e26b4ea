import { CorruptItemError } from '../../errors';
import { arrayOf, check, looseObject, number, object, optional, string } from '../../shape';
import { keys } from '../layout';
import { RebuildRepository, RebuildState, StoredRebuild } from '../rebuilds';
import { StateTable, written } from './table';

const rebuildRow = object({
  state: looseObject({
    renderedDigest: optional(string()),
    requestedAt: optional(string()),
    current: optional(looseObject({ id: string(), digest: string(), failed: arrayOf(string()) })),
    last: optional(looseObject({ id: string(), digest: string() })),
    lease: optional(object({ owner: string(), until: string() })),
  }),
  revision: number,
});

/** DynamoRebuilds keeps the rebuild state in `CATALOG / REBUILD`, written under its revision. */
export class DynamoRebuilds implements RebuildRepository {
  constructor(private readonly table: StateTable) {}

  async getRebuild(): Promise<StoredRebuild | undefined> {
    const item = await this.table.get('getRebuild', keys.rebuild(), { consistent: true });
    if (!item) return undefined;
    const read = check(rebuildRow, item);
    if (!read.ok) throw new CorruptItemError(keys.rebuild(), read.problems);
    return { state: read.value.state as unknown as RebuildState, revision: read.value.revision };
  }

  async putRebuild(state: RebuildState, revision: number): Promise<boolean> {
    return written(
      this.table.put('putRebuild', {
        Item: { ...keys.rebuild(), kind: 'rebuild', state, revision: revision + 1 },
        ...(revision === 0
          ? { ConditionExpression: 'attribute_not_exists(pk)' }
          : { ConditionExpression: '#revision = :revision', ExpressionAttributeNames: { '#revision': 'revision' }, ExpressionAttributeValues: { ':revision': revision } }),
      }),
    );
  }
}

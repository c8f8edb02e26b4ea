import { RolloutState } from '../../model/rollout-state';
import { keys, rolloutsPartition } from '../layout';
import { DeclaredRollout, RolloutRepository, StoredRollout } from '../rollouts';
import { StateTable, written } from './table';

/** DynamoRollouts keeps rollout states in the `ROLLOUTS` partition, each written under its revision. */
export class DynamoRollouts implements RolloutRepository {
  constructor(private readonly table: StateTable) {}

  async registerRollouts(declared: readonly DeclaredRollout[], now: Date): Promise<void> {
    for (const d of declared) {
      const state: RolloutState = {
        id: d.id,
        owner: d.owner,
        service: d.service,
        specHash: d.specHash,
        status: 'progressing',
        step: -1,
        percent: 0,
        stepStartedAt: now.toISOString(),
        history: [],
      };
      // A rollout already following this spec keeps its state; a new or changed one starts over.
      await written(
        this.table.put('registerRollout', {
          Item: { ...keys.rollout(d.id), kind: 'rollout', state, revision: 1 },
          ConditionExpression: 'attribute_not_exists(pk) OR #state.specHash <> :hash',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':hash': d.specHash },
        }),
      );
    }
  }

  async listRollouts(): Promise<StoredRollout[]> {
    const items = await this.table.query('listRollouts', {
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': rolloutsPartition },
      ConsistentRead: true,
    });
    return items.map((item) => ({ state: item.state as RolloutState, revision: Number(item.revision) }));
  }

  async putRollout(state: RolloutState, revision: number): Promise<boolean> {
    return written(
      this.table.put('putRollout', {
        Item: { ...keys.rollout(state.id), kind: 'rollout', state, revision: revision + 1 },
        ConditionExpression: '#revision = :revision',
        ExpressionAttributeNames: { '#revision': 'revision' },
        ExpressionAttributeValues: { ':revision': revision },
      }),
    );
  }
}

import { NodeStatus } from '../../model/node-status';
import { keys, nodeStatusPartition, prefixes } from '../layout';
import { NodeStatusRepository } from '../repositories';
import { StateTable } from './table';
import { toNodeStatus } from './rows';

/**
 * DynamoNodeStatus keeps what each Envoy last polled and applied (`NODES#<name> / NODE#<nodeId>`)
 * with a TTL: a node that stops polling expires. Expired items are filtered on read too, as
 * DynamoDB's TTL deletion lags.
 */
export class DynamoNodeStatus implements NodeStatusRepository {
  constructor(
    private readonly table: StateTable,
    private readonly options: { readonly nodeStatusTtlSeconds: number; readonly now: () => Date },
  ) {}

  private nowSeconds(): number {
    return Math.floor(this.options.now().getTime() / 1000);
  }

  async putNodeStatus(status: NodeStatus): Promise<void> {
    const expiresAt = this.nowSeconds() + this.options.nodeStatusTtlSeconds;
    await this.table.put('putNodeStatus', { Item: { ...keys.nodeStatus(status.service, status.nodeId), kind: 'node', status, expiresAt } });
  }

  async getNodeStatus(service: string, nodeId: string): Promise<NodeStatus | undefined> {
    const item = await this.table.get('getNodeStatus', keys.nodeStatus(service, nodeId));
    if (!item) return undefined;
    const { status, expiresAt } = toNodeStatus(item);
    return expiresAt > this.nowSeconds() ? status : undefined;
  }

  async listNodeStatus(service: string): Promise<NodeStatus[]> {
    const items = await this.table.query('listNodeStatus', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':pk': nodeStatusPartition(service), ':prefix': prefixes.node, ':now': this.nowSeconds() },
    });
    return items.map((item) => toNodeStatus(item).status);
  }
}

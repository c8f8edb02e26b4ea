import type { EndpointChange } from '../../model/endpoint';
import { endpointChangeTarget } from '../../model/endpoint-terms';
import { keys, prefixes, servicePartition } from '../layout';
import { EndpointState, StoredEndpoint } from '../records';
import { DynamoAssignments } from './assignments';
import { EndpointRepository } from '../repositories';
import { Item, StateTable, written } from './table';
import { toStoredEndpoint } from './rows';

/**
 * DynamoEndpoints keeps one item per endpoint under `SVC#<service> / EP#<id>`; a removed
 * endpoint leaves a tombstone with a TTL, so a late event cannot bring it back. Every write is
 * ordered by the change's ordering key, so a stale or duplicate event is a no-op.
 */
export class DynamoEndpoints implements EndpointRepository {
  constructor(
    private readonly table: StateTable,
    private readonly options: { readonly tombstoneTtlSeconds: number; readonly now: () => Date },
    private readonly assignments: Pick<DynamoAssignments, 'readEndpointState'>,
  ) {}

  async applyEndpointChange(change: EndpointChange): Promise<'applied' | 'stale'> {
    const item = this.endpointItem(change);
    const applied = await written(
      this.table.put('applyEndpointChange', {
        Item: item,
        ConditionExpression: 'attribute_not_exists(pk) OR orderingKey < :k',
        ExpressionAttributeValues: { ':k': item.orderingKey },
      }),
    );
    return applied ? 'applied' : 'stale';
  }

  /**
   * replaceLiveEndpoint writes a change over a live endpoint only if it is still exactly as the
   * caller read it (same ordering key and health). The reconciler drains and removes vanished
   * endpoints this way, keeping their ordering key, so any newer event still wins over it.
   */
  async replaceLiveEndpoint(
    change: EndpointChange,
    expected: { readonly orderingKey: number; readonly health: string },
  ): Promise<'applied' | 'stale'> {
    const applied = await written(
      this.table.put('replaceLiveEndpoint', {
        Item: this.endpointItem(change),
        ConditionExpression: '#k = :k AND #removed = :false AND #ep.#health = :health',
        ExpressionAttributeNames: { '#k': 'orderingKey', '#removed': 'removed', '#ep': 'endpoint', '#health': 'health' },
        ExpressionAttributeValues: { ':k': expected.orderingKey, ':false': false, ':health': expected.health },
      }),
    );
    return applied ? 'applied' : 'stale';
  }

  /** endpointItem is the item an endpoint change writes: the endpoint, or its tombstone with a TTL. */
  private endpointItem(change: EndpointChange): Item & { orderingKey: number } {
    const { service, id } = endpointChangeTarget(change);
    const source = change.kind === 'upsert' ? change.endpoint.source : change.source;
    const nowSeconds = Math.floor(this.options.now().getTime() / 1000);
    return change.kind === 'upsert'
      ? { ...keys.endpoint(service, id), kind: 'endpoint', endpoint: change.endpoint, orderingKey: source.orderingKey, removed: false }
      : {
          ...keys.endpoint(service, id),
          kind: 'endpoint',
          removed: true,
          removedSource: source,
          orderingKey: source.orderingKey,
          expiresAt: nowSeconds + this.options.tombstoneTtlSeconds,
        };
  }

  async getEndpoint(service: string, id: string): Promise<StoredEndpoint | undefined> {
    const item = await this.table.get('getEndpoint', keys.endpoint(service, id), { consistent: true });
    return item ? toStoredEndpoint(item) : undefined;
  }

  async listEndpoints(service: string): Promise<StoredEndpoint[]> {
    const items = await this.table.query('listEndpoints', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.endpoint },
      ConsistentRead: true,
    });
    return items.map(toStoredEndpoint);
  }

  readEndpointState(service: string): Promise<EndpointState> {
    return this.assignments.readEndpointState(service);
  }
}

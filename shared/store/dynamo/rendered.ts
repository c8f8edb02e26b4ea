import { packJson } from '../codec';
import { keys } from '../layout';
import { EndpointAssignmentItem, RenderedKey, SnapshotItem } from '../records';
import { RenderedItems, RenderedMany, RenderedRepository } from '../repositories';
import { ChangeLogWriter, snapshotChangeVersion } from '../change-log';
import { StateTable, written } from './table';
import { DynamoAssignments } from './assignments';
import { renderedServiceOf, toServiceSecrets, toSnapshotItem } from './rows';

/**
 * DynamoRendered keeps what polls are served, gzipped (see codec.ts): each service's snapshot
 * (`SVC#<name> / SNAPSHOT`); its rendered ClusterLoadAssignment, in shards under a head
 * (`SVC#<name> / EDS`), is written by DynamoAssignments and read here through it.
 * Each write that wrote is then recorded in the change log (item first, record second: no
 * transactions); a failed append fails the write, so the event behind it is retried. Where a
 * retry writes nothing again (secrets still fresh, a service already deleted), the record stays
 * lost and the push tier's once-a-minute sweep (server/change-watcher.ts) picks the change up.
 */
export class DynamoRendered implements RenderedRepository {
  constructor(
    private readonly table: StateTable,
    private readonly changes: ChangeLogWriter,
    private readonly assignments: DynamoAssignments,
  ) {}

  async getEndpointAssignments(services: readonly string[]): Promise<Map<string, EndpointAssignmentItem>> {
    return (await this.getRendered(undefined, services)).assignments;
  }

  async getRendered(
    snapshotOf: string | undefined,
    assignmentsOf: readonly string[],
    secretsOf?: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<RenderedItems> {
    const read = await this.getRenderedMany(
      [
        ...(snapshotOf !== undefined ? [{ service: snapshotOf, item: 'snapshot' as const }] : []),
        ...assignmentsOf.map((service) => ({ service, item: 'eds' as const })),
        ...(secretsOf !== undefined ? [{ service: secretsOf, item: 'secrets' as const }] : []),
      ],
      options,
    );
    const snapshot = snapshotOf !== undefined ? read.snapshots.get(snapshotOf) : undefined;
    const secrets = secretsOf !== undefined ? read.secrets.get(secretsOf) : undefined;
    return { ...(snapshot ? { snapshot } : {}), assignments: read.assignments, ...(secrets ? { secrets } : {}) };
  }

  async getRenderedMany(
    keyList: readonly RenderedKey[],
    options: { readonly signal?: AbortSignal; readonly consistent?: boolean } = {},
  ): Promise<RenderedMany> {
    const keyOf = { snapshot: keys.snapshot, secrets: keys.secrets };
    const unique = new Map<string, { pk: string; sk: string }>();
    const assignmentsOf = new Set<string>();
    for (const { service, item } of keyList) {
      if (item === 'eds') assignmentsOf.add(service);
      else unique.set(`${item}\u0000${service}`, keyOf[item](service));
    }
    // Snapshots and secrets in batches; assignments a Query each (head and shards together), at the same time.
    const [items, assignments] = await Promise.all([
      unique.size > 0 ? this.table.batchGet('getRenderedMany', [...unique.values()], options) : [],
      assignmentsOf.size > 0 ? this.assignments.readAssignments([...assignmentsOf], options) : new Map<string, EndpointAssignmentItem>(),
    ]);
    const read: RenderedMany = { snapshots: new Map(), assignments: new Map(), secrets: new Map() };
    for (const item of items) {
      const service = renderedServiceOf(item);
      if (item.sk === 'SNAPSHOT') read.snapshots.set(service, toSnapshotItem(item));
      else if (item.sk === 'SECRETS') read.secrets.set(service, toServiceSecrets(item));
    }
    for (const [service, assignment] of assignments) read.assignments.set(service, assignment);
    return read;
  }

  async putSnapshot(service: string, snapshot: SnapshotItem): Promise<boolean> {
    const stored = await written(this.table.put('putSnapshot', {
      Item: {
        ...keys.snapshot(service),
        kind: 'snapshot',
        body: packJson(snapshot.resources),
        versions: snapshot.versions,
        specRevision: snapshot.specRevision,
        renderedAt: snapshot.renderedAt,
        changedAt: snapshot.changedAt ?? snapshot.renderedAt,
        identity: snapshot.identity,
        ...(snapshot.proxyless
          ? { proxyless: packJson(snapshot.proxyless.resources), proxylessVersions: snapshot.proxyless.versions }
          : {}),
        ...(snapshot.retiringClusters?.length ? { retiring: packJson(snapshot.retiringClusters) } : {}),
        ...(snapshot.proxyless?.retiringClusters?.length ? { proxylessRetiring: packJson(snapshot.proxyless.retiringClusters) } : {}),
      },
      // Renders of the same revision replace each other (a caller or dependency changed).
      ConditionExpression: 'attribute_not_exists(pk) OR specRevision <= :rev',
      ExpressionAttributeValues: { ':rev': snapshot.specRevision },
    }));
    if (stored) await this.changes.append(service, 'snapshot', snapshotChangeVersion(snapshot));
    return stored;
  }

  async getSnapshot(service: string): Promise<SnapshotItem | undefined> {
    const item = await this.table.get('getSnapshot', keys.snapshot(service));
    return item ? toSnapshotItem(item) : undefined;
  }
}

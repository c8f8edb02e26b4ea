import { ConflictError } from '../../errors';
import type { ServiceSpec } from '../../model/spec';
import { ecsServiceNameOf } from '../../model/service-terms';
import { dependencyNamesOf } from '../../model/service-terms';
import { catalogPk, keys, prefixes, servicePartition } from '../layout';
import { ServiceRecord, nextRevision } from '../records';
import { ChangeLogWriter } from '../change-log';
import { CatalogRepository } from '../repositories';
import { Key, StateTable, written } from './table';
import { aliasTarget, dependentCaller, toServiceRecord } from './rows';

/**
 * DynamoCatalog keeps the specs under `CATALOG / SVC#<name>` with two indexes: the ECS alias
 * (`CATALOG / ECS#<ecsService>`) and the reverse dependencies (`SVC#<dep> / DEPENDENT#<caller>`).
 * It has no transactions (dynalite has none, and they cost double): the spec item is written
 * last, conditionally on the revision read before, and is the commit point, so a crash before
 * it leaves only extra index entries, which readers verify against the spec.
 */
export class DynamoCatalog implements CatalogRepository {
  constructor(
    private readonly table: StateTable,
    private readonly now: () => Date,
    private readonly changes: ChangeLogWriter,
  ) {}

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const item = await this.table.get('getService', keys.service(name), { consistent: true });
    return item ? toServiceRecord(item) : undefined;
  }

  async getServices(names: readonly string[]): Promise<Map<string, ServiceRecord>> {
    // Every caller renders or checks with what it reads, then writes: a replica's stale spec
    // would put an older identity or allow-list into a snapshot. So reads are consistent.
    const items = await this.table.batchGet('getServices', [...new Set(names)].map((n) => keys.service(n)), { consistent: true });
    return new Map(items.map(toServiceRecord).map((record) => [record.spec.name, record]));
  }

  async listServices(): Promise<ServiceRecord[]> {
    const items = await this.table.query('listServices', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': catalogPk, ':prefix': prefixes.service },
    });
    return items.map(toServiceRecord);
  }

  async putService(spec: ServiceSpec, previous: ServiceRecord | undefined): Promise<ServiceRecord> {
    const record: ServiceRecord = { spec, revision: nextRevision(previous), updatedAt: this.now().toISOString() };
    const ecsName = ecsServiceNameOf(spec);
    await this.table.put('putService', { Item: { ...keys.ecsAlias(ecsName), kind: 'ecs-alias', service: spec.name, ecsService: ecsName } });
    const newDeps = new Set(dependencyNamesOf(spec));
    for (const dep of newDeps) {
      await this.table.put('putService', { Item: { ...keys.dependent(dep, spec.name), kind: 'dependent', service: dep, caller: spec.name } });
    }
    const committed = await written(
      this.table.put('putService', {
        Item: { ...keys.service(spec.name), kind: 'service', name: spec.name, spec, revision: record.revision, updatedAt: record.updatedAt },
        ConditionExpression: previous ? 'revision = :rev' : 'attribute_not_exists(pk)',
        ExpressionAttributeValues: previous ? { ':rev': previous.revision } : undefined,
      }),
    );
    if (!committed) throw changedConcurrently(spec.name);
    // Clean up what the previous revision had and this one does not.
    if (previous) {
      const oldEcs = ecsServiceNameOf(previous.spec);
      if (oldEcs !== ecsName) await this.deleteAliasIfOf('putService', oldEcs, spec.name);
      for (const dep of dependencyNamesOf(previous.spec)) {
        if (!newDeps.has(dep)) await this.table.delete('putService', { Key: keys.dependent(dep, spec.name) });
      }
    }
    return record;
  }

  /** deleteService removes the spec (the commit point), then its index entries and rendered items, and logs their removal. */
  async deleteService(record: ServiceRecord): Promise<void> {
    const { spec } = record;
    const committed = await written(
      this.table.delete('deleteService', {
        Key: keys.service(spec.name),
        ConditionExpression: 'revision = :rev',
        ExpressionAttributeValues: { ':rev': record.revision },
      }),
    );
    if (!committed) throw changedConcurrently(spec.name);
    await this.deleteAliasIfOf('deleteService', ecsServiceNameOf(spec), spec.name);
    const leftovers: Key[] = [
      ...dependencyNamesOf(spec).map((dep) => keys.dependent(dep, spec.name)),
      keys.snapshot(spec.name),
      keys.secrets(spec.name),
    ];
    for (const key of leftovers) await this.table.delete('deleteService', { Key: key });
    // The servers' streams of the service learn that its snapshot and secrets are gone.
    await this.changes.append(spec.name, 'snapshot', '');
    await this.changes.append(spec.name, 'secrets', '');
  }

  async serviceForEcsService(ecsService: string): Promise<string | undefined> {
    const item = await this.table.get('serviceForEcsService', keys.ecsAlias(ecsService));
    return item ? aliasTarget(item) : undefined;
  }

  async listDependents(service: string): Promise<string[]> {
    const items = await this.table.query('listDependents', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.dependent },
      ProjectionExpression: 'caller',
      ConsistentRead: true, // the allow-list is rendered from it
    });
    return items.map(dependentCaller).sort();
  }

  /** deleteAliasIfOf removes an ECS alias only if it still points at `service` (another may have taken it). */
  private async deleteAliasIfOf(operation: string, ecsService: string, service: string): Promise<void> {
    await written(
      this.table.delete(operation, {
        Key: keys.ecsAlias(ecsService),
        ConditionExpression: 'service = :s',
        ExpressionAttributeValues: { ':s': service },
      }),
    );
  }
}

const changedConcurrently = (name: string) => new ConflictError(`service "${name}" was changed concurrently; read it again and retry`);

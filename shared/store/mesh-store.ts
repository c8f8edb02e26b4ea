import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  QueryCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { ConflictError, StoreUnavailableError } from '../errors';
import { Endpoint, EndpointChange, endpointChangeTarget } from '../model/endpoint';
import { NodeStatus } from '../model/node-status';
import { ServiceSpec, ecsServiceNameOf } from '../model/spec';
import { catalogPk, keys, prefixes, servicePartition } from './layout';
import { packJson, unpackJson } from './codec';
import { EndpointAssignmentItem, ServiceRecord, ServiceSecretsItem, SnapshotItem, StoredEndpoint } from './records';

export interface MeshStoreOptions {
  /** How long a removed endpoint's tombstone keeps late events from resurrecting it. */
  readonly tombstoneTtlSeconds?: number;
  /** How long a node that stopped polling stays listed. */
  readonly nodeStatusTtlSeconds?: number;
  readonly now?: () => Date;
}

const isConditionFailure = (err: unknown): boolean =>
  err instanceof Error && err.name === 'ConditionalCheckFailedException';

/**
 * MeshStore is the control plane's state in one DynamoDB table (layout in `layout.ts`).
 * It has no transactions (dynalite has none, and they cost double): every multi-item change
 * is ordered so that a crash between writes leaves only harmless extras, and every write
 * that could race uses a condition.
 */
export class MeshStore {
  private readonly tombstoneTtlSeconds: number;
  private readonly nodeStatusTtlSeconds: number;
  private readonly now: () => Date;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
    options: MeshStoreOptions = {},
  ) {
    this.tombstoneTtlSeconds = options.tombstoneTtlSeconds ?? 24 * 3600;
    this.nodeStatusTtlSeconds = options.nodeStatusTtlSeconds ?? 3600;
    this.now = options.now ?? (() => new Date());
  }

  // ---- catalog -------------------------------------------------------------------------

  async getService(name: string): Promise<ServiceRecord | undefined> {
    const out = await this.call('getService', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.service(name), ConsistentRead: true })),
    );
    return out.Item ? toServiceRecord(out.Item) : undefined;
  }

  /** getServices reads several specs at once (missing names are simply absent from the map). */
  async getServices(names: readonly string[]): Promise<Map<string, ServiceRecord>> {
    const items = await this.batchGet('getServices', [...new Set(names)].map((n) => keys.service(n)));
    return new Map(items.map((item) => [String(item.name), toServiceRecord(item)]));
  }

  async listServices(): Promise<ServiceRecord[]> {
    const items = await this.queryAll('listServices', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': catalogPk, ':prefix': prefixes.service },
    });
    return items.map(toServiceRecord);
  }

  /**
   * putService writes a spec, its ECS alias and its reverse-dependency entries. The spec is
   * written last and conditionally on the revision read before, so the spec item is the
   * commit point: a crash before it leaves only extra index entries, which readers verify
   * against the spec.
   */
  async putService(spec: ServiceSpec, previous: ServiceRecord | undefined): Promise<ServiceRecord> {
    const record: ServiceRecord = {
      spec,
      revision: (previous?.revision ?? 0) + 1,
      updatedAt: this.now().toISOString(),
    };
    const ecsName = ecsServiceNameOf(spec);
    await this.call('putService', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.ecsAlias(ecsName), kind: 'ecs-alias', service: spec.name, ecsService: ecsName },
        }),
      ),
    );
    const newDeps = new Set(spec.dependencies.map((d) => d.service));
    for (const dep of newDeps) {
      await this.call('putService', () =>
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...keys.dependent(dep, spec.name), kind: 'dependent', service: dep, caller: spec.name },
          }),
        ),
      );
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.service(spec.name),
            kind: 'service',
            name: spec.name,
            spec,
            revision: record.revision,
            updatedAt: record.updatedAt,
          },
          ConditionExpression: previous ? 'revision = :rev' : 'attribute_not_exists(pk)',
          ExpressionAttributeValues: previous ? { ':rev': previous.revision } : undefined,
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new ConflictError(`service "${spec.name}" was changed concurrently; read it again and retry`, {
          cause: err,
        });
      }
      throw new StoreUnavailableError('putService', { cause: err });
    }
    // Clean up what the previous revision had and this one does not.
    if (previous) {
      const oldEcs = ecsServiceNameOf(previous.spec);
      if (oldEcs !== ecsName) await this.deleteIfPointsTo(keys.ecsAlias(oldEcs), spec.name);
      for (const dep of previous.spec.dependencies) {
        if (!newDeps.has(dep.service)) await this.deleteKey('putService', keys.dependent(dep.service, spec.name));
      }
    }
    return record;
  }

  /** deleteService removes the spec (the commit point) and then its index entries and rendered items. */
  async deleteService(record: ServiceRecord): Promise<void> {
    const { spec } = record;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: keys.service(spec.name),
          ConditionExpression: 'revision = :rev',
          ExpressionAttributeValues: { ':rev': record.revision },
        }),
      );
    } catch (err) {
      if (isConditionFailure(err)) {
        throw new ConflictError(`service "${spec.name}" was changed concurrently; read it again and retry`, {
          cause: err,
        });
      }
      throw new StoreUnavailableError('deleteService', { cause: err });
    }
    await this.deleteIfPointsTo(keys.ecsAlias(ecsServiceNameOf(spec)), spec.name);
    for (const dep of spec.dependencies) await this.deleteKey('deleteService', keys.dependent(dep.service, spec.name));
    await this.deleteKey('deleteService', keys.snapshot(spec.name));
    await this.deleteKey('deleteService', keys.secrets(spec.name));
  }

  /** serviceForEcsService maps an ECS service name to the mesh service declared for it, if any. */
  async serviceForEcsService(ecsService: string): Promise<string | undefined> {
    const out = await this.call('serviceForEcsService', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.ecsAlias(ecsService) })),
    );
    return out.Item ? String(out.Item.service) : undefined;
  }

  /** listDependents names the services that declared `service` as a dependency. */
  async listDependents(service: string): Promise<string[]> {
    const items = await this.queryAll('listDependents', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.dependent },
      ProjectionExpression: 'caller',
    });
    return items.map((i) => String(i.caller)).sort();
  }

  // ---- endpoints -----------------------------------------------------------------------

  /**
   * applyEndpointChange writes one endpoint (or its tombstone) unless the stored state is as
   * new or newer by ordering key: a stale or duplicate event is a no-op, reported as 'stale'.
   */
  async applyEndpointChange(change: EndpointChange): Promise<'applied' | 'stale'> {
    const { item, source } = this.endpointItem(change);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(pk) OR orderingKey < :k',
          ExpressionAttributeValues: { ':k': source.orderingKey },
        }),
      );
      return 'applied';
    } catch (err) {
      if (isConditionFailure(err)) return 'stale';
      throw new StoreUnavailableError('applyEndpointChange', { cause: err });
    }
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
    const { item } = this.endpointItem(change);
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: item,
          ConditionExpression: '#k = :k AND #removed = :false AND #ep.#health = :health',
          ExpressionAttributeNames: { '#k': 'orderingKey', '#removed': 'removed', '#ep': 'endpoint', '#health': 'health' },
          ExpressionAttributeValues: { ':k': expected.orderingKey, ':false': false, ':health': expected.health },
        }),
      );
      return 'applied';
    } catch (err) {
      if (isConditionFailure(err)) return 'stale';
      throw new StoreUnavailableError('replaceLiveEndpoint', { cause: err });
    }
  }

  /** endpointItem is the item an endpoint change writes: the endpoint, or its tombstone with a TTL. */
  private endpointItem(change: EndpointChange): { item: Record<string, unknown>; source: Endpoint['source'] } {
    const { service, id } = endpointChangeTarget(change);
    const source = change.kind === 'upsert' ? change.endpoint.source : change.source;
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const item =
      change.kind === 'upsert'
        ? { ...keys.endpoint(service, id), kind: 'endpoint', endpoint: change.endpoint, orderingKey: source.orderingKey, removed: false }
        : {
            ...keys.endpoint(service, id),
            kind: 'endpoint',
            removed: true,
            removedSource: source,
            orderingKey: source.orderingKey,
            expiresAt: nowSeconds + this.tombstoneTtlSeconds,
          };
    return { item, source };
  }

  /** getEndpoint returns one stored endpoint or tombstone. */
  async getEndpoint(service: string, id: string): Promise<StoredEndpoint | undefined> {
    const out = await this.call('getEndpoint', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.endpoint(service, id), ConsistentRead: true })),
    );
    return out.Item ? toStoredEndpoint(out.Item) : undefined;
  }

  /** listEndpoints reads every endpoint of a service, tombstones included, with a consistent read. */
  async listEndpoints(service: string): Promise<StoredEndpoint[]> {
    const items = await this.queryAll('listEndpoints', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.endpoint },
      ConsistentRead: true,
    });
    return items.map(toStoredEndpoint);
  }

  /**
   * bumpEndpointRevision counts endpoint changes of a service. A render that reads endpoints
   * after taking revision N has seen every change counted before N, so it may overwrite a
   * rendered assignment of any lower revision, and only that.
   */
  async bumpEndpointRevision(service: string): Promise<number> {
    const out = await this.call('bumpEndpointRevision', () =>
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.endpointAssignment(service),
          UpdateExpression: 'ADD endpointRevision :one SET kind = :kind',
          ExpressionAttributeValues: { ':one': 1, ':kind': 'eds' },
          ReturnValues: 'UPDATED_NEW',
        }),
      ),
    );
    return Number(out.Attributes?.endpointRevision);
  }

  /** putEndpointAssignment stores a rendered assignment unless one of a newer revision is there. */
  async putEndpointAssignment(service: string, assignment: EndpointAssignmentItem): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.endpointAssignment(service),
          UpdateExpression:
            'SET body = :body, version = :version, renderedRevision = :rev, renderedAt = :at, changedAt = :changedAt, kind = :kind',
          ConditionExpression: 'attribute_not_exists(renderedRevision) OR renderedRevision < :rev',
          ExpressionAttributeValues: {
            ':body': packJson(assignment.resource),
            ':version': assignment.version,
            ':rev': assignment.revision,
            ':at': assignment.renderedAt,
            ':changedAt': assignment.changedAt ?? assignment.renderedAt,
            ':kind': 'eds',
          },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw new StoreUnavailableError('putEndpointAssignment', { cause: err });
    }
  }

  /** getEndpointAssignments reads the rendered assignments of the named services in one batch. */
  async getEndpointAssignments(services: readonly string[]): Promise<Map<string, EndpointAssignmentItem>> {
    return (await this.getRendered(undefined, services)).assignments;
  }

  /**
   * getRendered reads, in one BatchGetItem, what a poll needs: a service's snapshot and the
   * rendered assignments of the named services. An EDS poll is then one request, not two.
   */
  async getRendered(
    snapshotOf: string | undefined,
    assignmentsOf: readonly string[],
    secretsOf?: string,
  ): Promise<{ snapshot?: SnapshotItem; assignments: Map<string, EndpointAssignmentItem>; secrets?: ServiceSecretsItem }> {
    const keyList = [
      ...(snapshotOf !== undefined ? [keys.snapshot(snapshotOf)] : []),
      ...[...new Set(assignmentsOf)].map((s) => keys.endpointAssignment(s)),
      ...(secretsOf !== undefined ? [keys.secrets(secretsOf)] : []),
    ];
    const items = keyList.length > 0 ? await this.batchGet('getRendered', keyList) : [];
    const assignments = new Map<string, EndpointAssignmentItem>();
    let snapshot: SnapshotItem | undefined;
    let secrets: ServiceSecretsItem | undefined;
    for (const item of items) {
      if (item.sk === 'SNAPSHOT') snapshot = toSnapshotItem(item);
      else if (item.sk === 'SECRETS') secrets = toServiceSecrets(item);
      else if (item.body) assignments.set(String(item.pk).slice(prefixes.service.length), toAssignment(item));
      // An EDS item with no body has a revision counter and nothing rendered yet.
    }
    return { ...(snapshot ? { snapshot } : {}), assignments, ...(secrets ? { secrets } : {}) };
  }

  // ---- snapshots -----------------------------------------------------------------------

  async putSnapshot(service: string, snapshot: SnapshotItem): Promise<void> {
    await this.call('putSnapshot', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.snapshot(service),
            kind: 'snapshot',
            body: packJson(snapshot.resources),
            versions: snapshot.versions,
            specRevision: snapshot.specRevision,
            renderedAt: snapshot.renderedAt,
            changedAt: snapshot.changedAt ?? snapshot.renderedAt,
            identity: snapshot.identity,
          },
        }),
      ),
    );
  }

  async getSnapshot(service: string): Promise<SnapshotItem | undefined> {
    const out = await this.call('getSnapshot', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.snapshot(service) })),
    );
    return out.Item ? toSnapshotItem(out.Item) : undefined;
  }

  // ---- certificates ------------------------------------------------------------------

  async putServiceSecrets(service: string, secrets: ServiceSecretsItem): Promise<void> {
    const { rendered, ...issued } = secrets;
    const item = {
      ...keys.secrets(service),
      kind: 'secrets',
      ...issued,
      ...(rendered ? { sds: packJson(rendered.resources), sdsVersions: rendered.versions } : {}),
    };
    await this.call('putServiceSecrets', () => this.doc.send(new PutCommand({ TableName: this.tableName, Item: item })));
  }

  async getServiceSecrets(service: string): Promise<ServiceSecretsItem | undefined> {
    const out = await this.call('getServiceSecrets', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.secrets(service), ConsistentRead: true })),
    );
    return out.Item ? toServiceSecrets(out.Item) : undefined;
  }

  async deleteServiceSecrets(service: string): Promise<void> {
    await this.deleteKey('deleteServiceSecrets', keys.secrets(service));
  }

  /** getCertificateAuthority reads the stored mesh CA certificate (PEM), if one was made. */
  async getCertificateAuthority(): Promise<string | undefined> {
    const out = await this.call('getCertificateAuthority', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.certificateAuthority(), ConsistentRead: true })),
    );
    return out.Item ? String(out.Item.certificatePem) : undefined;
  }

  /**
   * putCertificateAuthority stores the CA certificate. With `replace` false it only creates one
   * (two cold starts racing keep the first); it returns the certificate that is stored.
   */
  async putCertificateAuthority(certificatePem: string, replace: boolean): Promise<string> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.certificateAuthority(), kind: 'ca', certificatePem },
          ...(replace ? {} : { ConditionExpression: 'attribute_not_exists(pk)' }),
        }),
      );
      return certificatePem;
    } catch (err) {
      if (!isConditionFailure(err)) throw new StoreUnavailableError('putCertificateAuthority', { cause: err });
      return (await this.getCertificateAuthority())!;
    }
  }

  /** getSealedDataKey reads the KMS-encrypted data key that seals secrets, if one was made. */
  async getSealedDataKey(): Promise<Uint8Array | undefined> {
    const out = await this.call('getSealedDataKey', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.dataKey(), ConsistentRead: true })),
    );
    return out.Item ? (out.Item.ciphertext as Uint8Array) : undefined;
  }

  /** putSealedDataKey stores the encrypted data key once; a racing cold start keeps the first and gets it back. */
  async putSealedDataKey(ciphertext: Uint8Array): Promise<Uint8Array> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.dataKey(), kind: 'datakey', ciphertext },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return ciphertext;
    } catch (err) {
      if (!isConditionFailure(err)) throw new StoreUnavailableError('putSealedDataKey', { cause: err });
      return (await this.getSealedDataKey())!;
    }
  }

  // ---- node status ---------------------------------------------------------------------

  async putNodeStatus(status: NodeStatus): Promise<void> {
    const expiresAt = Math.floor(this.now().getTime() / 1000) + this.nodeStatusTtlSeconds;
    await this.call('putNodeStatus', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.nodeStatus(status.service, status.nodeId), kind: 'node', status, expiresAt },
        }),
      ),
    );
  }

  async getNodeStatus(service: string, nodeId: string): Promise<NodeStatus | undefined> {
    const out = await this.call('getNodeStatus', () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.nodeStatus(service, nodeId) })),
    );
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    if (!out.Item || Number(out.Item.expiresAt) <= nowSeconds) return undefined;
    return out.Item.status as NodeStatus;
  }

  /** listNodeStatus lists the live nodes of a service (expired ones are filtered, TTL deletion lags). */
  async listNodeStatus(service: string): Promise<NodeStatus[]> {
    const nowSeconds = Math.floor(this.now().getTime() / 1000);
    const items = await this.queryAll('listNodeStatus', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      FilterExpression: 'expiresAt > :now',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.node, ':now': nowSeconds },
    });
    return items.map((i) => i.status as NodeStatus);
  }

  // ---- plumbing ------------------------------------------------------------------------

  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new StoreUnavailableError(operation, { cause: err });
    }
  }

  private async deleteKey(operation: string, key: { pk: string; sk: string }): Promise<void> {
    await this.call(operation, () => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: key })));
  }

  private async deleteIfPointsTo(key: { pk: string; sk: string }, service: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: key,
          ConditionExpression: 'service = :s',
          ExpressionAttributeValues: { ':s': service },
        }),
      );
    } catch (err) {
      if (!isConditionFailure(err)) throw new StoreUnavailableError('deleteAlias', { cause: err });
    }
  }

  private async queryAll(
    operation: string,
    input: Omit<QueryCommandInput, 'TableName'>,
  ): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.call(operation, () =>
        this.doc.send(new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: startKey })),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /** batchGet reads up to any number of keys, 100 per request, retrying unprocessed keys. */
  private async batchGet(operation: string, keyList: { pk: string; sk: string }[]): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = keyList.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt));
        if (attempt > 8) throw new StoreUnavailableError(`${operation} (unprocessed keys)`);
        const request: Record<string, unknown>[] = pending;
        const out = await this.call(operation, () =>
          this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: request } } })),
        );
        items.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys as Record<string, unknown>[] | undefined;
      }
    }
    return items;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function toSnapshotItem(item: Record<string, unknown>): SnapshotItem {
  return {
    resources: unpackJson(item.body as Uint8Array),
    versions: item.versions as SnapshotItem['versions'],
    specRevision: Number(item.specRevision),
    renderedAt: String(item.renderedAt),
    changedAt: String(item.changedAt ?? item.renderedAt),
    ...(item.identity ? { identity: item.identity as SnapshotItem['identity'] } : {}),
  };
}

function toAssignment(item: Record<string, unknown>): EndpointAssignmentItem {
  return {
    resource: unpackJson(item.body as Uint8Array),
    version: String(item.version),
    revision: Number(item.renderedRevision),
    renderedAt: String(item.renderedAt),
    changedAt: String(item.changedAt ?? item.renderedAt),
  };
}

function toServiceSecrets(item: Record<string, unknown>): ServiceSecretsItem {
  return {
    certificatePem: String(item.certificatePem),
    sealedPrivateKey: item.sealedPrivateKey as Uint8Array,
    trustBundlePem: String(item.trustBundlePem),
    notBefore: String(item.notBefore),
    notAfter: String(item.notAfter),
    serial: String(item.serial),
    ...(item.sds
      ? { rendered: { resources: unpackJson(item.sds as Uint8Array), versions: item.sdsVersions as Record<string, string> } }
      : {}),
  };
}

function toServiceRecord(item: Record<string, unknown>): ServiceRecord {
  return { spec: item.spec as ServiceSpec, revision: Number(item.revision), updatedAt: String(item.updatedAt) };
}

function toStoredEndpoint(item: Record<string, unknown>): StoredEndpoint {
  const service = String(item.pk).slice(prefixes.service.length);
  const id = String(item.sk).slice(prefixes.endpoint.length);
  return item.removed
    ? { removed: true, service, id, orderingKey: Number(item.orderingKey), source: item.removedSource as Endpoint['source'] }
    : { removed: false, service, id, orderingKey: Number(item.orderingKey), endpoint: item.endpoint as Endpoint };
}

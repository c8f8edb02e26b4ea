import { Endpoint } from '../../model/endpoint';
import { ConditionFailedError, StoreUnavailableError } from '../../errors';
import { packJson } from '../codec';
import { writeUnitBytes, itemBytes } from '../capacity';
import { ChangeLogWriter } from '../change-log';
import { assignmentShardPrefix, endpointStateRange, keys, prefixes, servicePartition } from '../layout';
import { AssignmentHead, AssignmentShardItem, EndpointAssignmentItem, EndpointState, StoredEndpoint } from '../records';
import { AssignmentFold, AssignmentRepository, AssignmentSelection } from '../repositories';
import {
  AssignmentDigest,
  AssignmentEntry,
  addDigest,
  assembleAssignment,
  assignmentVersion,
  digestOf,
  emptyDigest,
  entryOf,
  planShards,
  sameEntry,
  shardIndexOf,
  subtractDigest,
  withEntry,
} from '../assignment-shards';
import { Item, StateTable, written } from './table';
import { toAssignment, toAssignmentHead, toAssignmentShard, toStoredEndpoint } from './rows';

/** shardBudgetBytes keeps a shard item within one write unit (a little is left for its stamp to grow). */
export const shardBudgetBytes = writeUnitBytes - 16;
/** How many times a fold reads and tries again when another writer got to its shard or its head first. */
const maxFoldAttempts = 8;
/** How many catch-up passes a full render makes for endpoints that changed while it rendered. */
const maxCatchUpPasses = 3;
/** Shard writes and deletes in flight at once, per render. */
const writeConcurrency = 16;

/**
 * DynamoAssignments keeps each service's rendered ClusterLoadAssignment as a head
 * (`SVC#<name> / EDS`) and shards (`SVC#<name> / EDS#<generation>#<index>`), with conditional
 * writes only (no transactions):
 *
 * - **fold** (one endpoint changed): read the head (its generation and shard count), the
 *   endpoint's shard, then the endpoint item itself, all consistently; write the shard with the
 *   endpoint's entry as stored, on the condition that the shard's stamp is what was read (else
 *   read again: another writer got there first); then add the shard's difference to the head's
 *   digest and count the change, on the condition that the head's generation is still the one
 *   read (else a full render switched generations meanwhile: fold again into the new one).
 *   The endpoint is read after the shard, so a shard written on a stamp holds the newest state
 *   of the endpoint as of a moment after every earlier write of that shard.
 * - **render** (in full): count a change on the head (revision R), list the endpoints, write
 *   them as a new generation of shards (keys unique to R), and switch the head to it unless a
 *   newer render did already. Folds that counted a change between R and the switch wrote into
 *   the old generation: if any did, the endpoints are listed again and each one that differs
 *   from what the render wrote is folded into the new generation.
 *
 * Readers read the head, then Query the generation's shards, and make the version of the
 * digests of the shards they read: content and version always agree.
 */
export class DynamoAssignments implements AssignmentRepository {
  constructor(
    private readonly table: StateTable,
    private readonly changes: ChangeLogWriter,
    private readonly now: () => Date,
  ) {}

  async foldEndpoint(service: string, id: string, options: { readonly maxBytes: number }): Promise<AssignmentFold> {
    for (let attempt = 0; attempt < maxFoldAttempts; attempt++) {
      const headItem = await this.table.get('foldEndpoint', keys.endpointAssignment(service), { consistent: true });
      const head = headItem ? toAssignmentHead(headItem) : undefined;
      if (!head?.layout) return { kind: 'needs-render', reason: head?.legacy ? 'stored whole, before shards' : 'not rendered yet' };
      if (head.layout.overLimit > 0) return { kind: 'needs-render', reason: 'endpoints were left out (too large)' };
      const { generation, shards } = head.layout;
      const index = shardIndexOf(id, shards);
      const shardItem = await this.table.get('foldEndpoint', keys.assignmentShard(service, generation, index), { consistent: true });
      if (!shardItem) {
        if (await this.generationMoved(service, generation)) continue;
        return { kind: 'needs-render', reason: `shard ${index} of generation ${generation} is missing` };
      }
      const shard = toAssignmentShard(shardItem);
      const endpointItem = await this.table.get('foldEndpoint', keys.endpoint(service, id), { consistent: true });
      const stored = endpointItem ? toStoredEndpoint(endpointItem) : undefined;
      const entry = stored && !stored.removed ? entryOf(stored.endpoint) : undefined;
      const before = shard.entries.find((e) => e.i === id);
      if (sameEntry(before, entry)) return { kind: 'unchanged' };
      const entries = withEntry(shard.entries, id, entry);
      const next = this.shardItem(service, generation, index, entries, shard.stamp + 1);
      if (entries.length > 1 && itemBytes(next) > shardBudgetBytes) return { kind: 'needs-render', reason: `shard ${index} is full` };
      const wrote = await written(
        this.table.put('foldEndpoint', { Item: next, ConditionExpression: 'stamp = :stamp', ExpressionAttributeValues: { ':stamp': shard.stamp } }),
      );
      if (!wrote) continue;
      const delta = subtractDigest(digestOf(entries), shard.digest);
      const nowIso = this.now().toISOString();
      let after: Item | undefined;
      try {
        after = await this.table.update('foldEndpoint', {
          Key: keys.endpointAssignment(service),
          UpdateExpression: 'ADD endpointRevision :one, #count :count, sum1 :sum1, sum2 :sum2, #bytes :bytes SET renderedAt = :at, changedAt = :at',
          ConditionExpression: 'generation = :generation',
          ExpressionAttributeNames: { '#count': 'count', '#bytes': 'bytes' },
          ExpressionAttributeValues: { ':one': 1, ':count': delta.count, ':sum1': delta.sum1, ':sum2': delta.sum2, ':bytes': delta.bytes, ':at': nowIso, ':generation': generation },
          ReturnValues: 'ALL_NEW',
        });
      } catch (err) {
        if (err instanceof ConditionFailedError) continue; // a render switched generations: fold into the new one
        throw err;
      }
      const layout = toAssignmentHead(after ?? {}).layout;
      const version = assignmentVersion(service, layout?.digest ?? emptyDigest);
      await this.changes.append(service, 'eds', version);
      // The endpoint may have changed since it was read: a writer that changed it then, and read
      // the shard before this write, found nothing to do. So the last fold to write checks, and
      // folds again what it no longer matches.
      const recheck = await this.table.get('foldEndpoint', keys.endpoint(service, id), { consistent: true });
      const current = recheck ? toStoredEndpoint(recheck) : undefined;
      if (!sameEntry(entry, current && !current.removed ? entryOf(current.endpoint) : undefined)) continue;
      // A fold cannot cut the assignment down to size: past the cap, a full render does (fittingAssignment).
      if ((layout?.digest.bytes ?? 0) > options.maxBytes) return { kind: 'needs-render', reason: 'larger than the served cap' };
      return { kind: 'updated', version };
    }
    return { kind: 'needs-render', reason: `still contended after ${maxFoldAttempts} attempts` };
  }

  async renderAssignment(service: string, select: (live: readonly Endpoint[]) => AssignmentSelection): Promise<{ written: boolean; overLimit: number }> {
    const counted = await this.table.update('renderAssignment', {
      Key: keys.endpointAssignment(service),
      UpdateExpression: 'ADD endpointRevision :one SET kind = :kind',
      ExpressionAttributeValues: { ':one': 1, ':kind': 'eds' },
      ReturnValues: 'ALL_NEW',
    });
    const generation = toAssignmentHead(counted ?? {}).revision;
    const live = liveOf(await this.listEndpoints(service));
    const { kept, overLimit } = select(live);
    const entries = kept.map(entryOf);
    const shards = planShards(entries, (e) => itemBytes(this.shardItem(service, generation, 0, e, 1)), shardBudgetBytes);
    await forEachLimited(shards.map((e, i) => [e, i] as const), writeConcurrency, async ([e, i]) => {
      await this.table.put('renderAssignment', { Item: this.shardItem(service, generation, i, e, 1) });
    });
    const digest = digestOf(entries);
    const nowIso = this.now().toISOString();
    let previous: Item | undefined;
    try {
      previous = await this.table.update('renderAssignment', {
        Key: keys.endpointAssignment(service),
        UpdateExpression:
          'SET generation = :generation, shards = :shards, #count = :count, sum1 = :sum1, sum2 = :sum2, #bytes = :bytes, overLimit = :overLimit, renderedAt = :at, changedAt = :at REMOVE body, version, renderedRevision',
        ConditionExpression: 'attribute_not_exists(generation) OR generation < :generation',
        ExpressionAttributeNames: { '#count': 'count', '#bytes': 'bytes' },
        ExpressionAttributeValues: {
          ':generation': generation,
          ':shards': shards.length,
          ':count': digest.count,
          ':sum1': digest.sum1,
          ':sum2': digest.sum2,
          ':bytes': digest.bytes,
          ':overLimit': overLimit,
          ':at': nowIso,
        },
        ReturnValues: 'ALL_OLD',
      });
    } catch (err) {
      if (!(err instanceof ConditionFailedError)) throw err;
      // A newer render switched first: it listed the endpoints after this one did. Drop ours.
      await this.deleteAssignmentShards(service, shards.map((_, index) => ({ generation, index })));
      return { written: false, overLimit };
    }
    await this.changes.append(service, 'eds', assignmentVersion(service, digest));
    // The generation it replaced (maybe a render that switched after this one began), not the one it began on.
    const replaced = toAssignmentHead(previous ?? {});
    if (replaced.layout) {
      const old = replaced.layout;
      await this.deleteAssignmentShards(service, Array.from({ length: old.shards }, (_, index) => ({ generation: old.generation, index })));
    }
    const counter = replaced.revision;
    if (counter > generation) await this.catchUp(service, generation, entries, overLimit > 0, select);
    return { written: true, overLimit };
  }

  /**
   * catchUp folds into a just-switched generation the endpoints that changed while it was
   * rendered: folds that counted a change before the switch wrote into the old generation.
   * An assignment cut to size cannot be folded into: it is rendered again instead (bounded).
   */
  private async catchUp(
    service: string,
    generation: number,
    rendered: readonly AssignmentEntry[],
    cut: boolean,
    select: (live: readonly Endpoint[]) => AssignmentSelection,
  ): Promise<void> {
    if (cut) return; // the next change renders a cut assignment in full anyway (foldEndpoint says needs-render)
    const wrote = new Map(rendered.map((e) => [e.i, e]));
    for (let pass = 0; pass < maxCatchUpPasses; pass++) {
      const live = new Map(liveOf(await this.listEndpoints(service)).map((ep) => [ep.id, entryOf(ep)]));
      const differing = [...new Set([...wrote.keys(), ...live.keys()])].filter((id) => !sameEntry(wrote.get(id), live.get(id)));
      if (differing.length === 0) return;
      let needsRender = false;
      for (const id of differing) {
        const folded = await this.foldEndpoint(service, id, { maxBytes: Number.POSITIVE_INFINITY });
        if (folded.kind === 'needs-render') needsRender = true;
      }
      if (needsRender) {
        const head = await this.table.get('renderAssignment', keys.endpointAssignment(service), { consistent: true });
        // Only if the generation is still ours: a newer render has listed after us.
        if (toAssignmentHead(head ?? {}).layout?.generation === generation) await this.renderAssignment(service, select);
        return;
      }
      for (const id of differing) {
        const entry = live.get(id);
        if (entry) wrote.set(id, entry);
        else wrote.delete(id);
      }
    }
  }

  async deleteAssignmentShards(service: string, shards: readonly { readonly generation: number; readonly index: number }[]): Promise<void> {
    await forEachLimited(shards, writeConcurrency, async ({ generation, index }) => {
      await this.table.delete('deleteAssignmentShards', { Key: keys.assignmentShard(service, generation, index) });
    });
  }

  /**
   * readAssignments reads the assignments of the named services, one Query each (bounded
   * concurrency) of the head and its shards together (`begins_with(sk, 'EDS')`): a Query is
   * billed by the total size it returns, so a poll reads what one whole item would have cost it
   * in requests, with the shards' bytes. Shards of another generation (a render in flight, or
   * leftovers) are skipped; if the head's generation is not all there (a render switched and
   * deleted between the pages of the Query, or a replica is behind), it reads again
   * consistently, three times at most. An assignment stored whole before shards is read as it is.
   */
  async readAssignments(
    services: readonly string[],
    options: { readonly consistent?: boolean; readonly signal?: AbortSignal },
  ): Promise<Map<string, EndpointAssignmentItem>> {
    const out = new Map<string, EndpointAssignmentItem>();
    await forEachLimited([...new Set(services)], 8, async (service) => {
      for (let attempt = 0; attempt < 3; attempt++) {
        if (attempt > 0 && options.signal?.aborted) throw new StoreUnavailableError('readAssignments (out of time)');
        const items = await this.table.query(
          'readAssignments',
          {
            KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
            ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': keys.endpointAssignment(service).sk },
            ...(options.consistent || attempt > 0 ? { ConsistentRead: true } : {}),
          },
          options.signal ? { signal: options.signal } : {},
        );
        const headItem = items.find((i) => i.sk === keys.endpointAssignment(service).sk);
        if (!headItem) return;
        const head = toAssignmentHead(headItem);
        if (!head.layout) {
          // A counter with nothing rendered yet, or an assignment stored whole before shards.
          if (head.legacy) out.set(service, toAssignment(headItem));
          return;
        }
        const prefix = assignmentShardPrefix(head.layout.generation);
        const shards = items.filter((i) => String(i.sk).startsWith(prefix)).map(toAssignmentShard);
        if (shards.length === head.layout.shards && shards.every((s, i) => s.index === i)) {
          out.set(service, assembled(service, head, shards));
          return;
        }
      }
      throw new StoreUnavailableError(`readAssignments (the shards of "${service}" kept changing generation)`);
    });
    return out;
  }

  /** readEndpointState reads a service's endpoints, assignment head and shards in one consistent Query. */
  async readEndpointState(service: string): Promise<EndpointState> {
    const items = await this.table.query('readEndpointState', {
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':from': endpointStateRange.from, ':to': endpointStateRange.to },
      ConsistentRead: true,
    });
    const endpoints: StoredEndpoint[] = [];
    const shards: AssignmentShardItem[] = [];
    let head: AssignmentHead | undefined;
    for (const item of items) {
      const sk = String(item.sk);
      if (sk === keys.endpointAssignment(service).sk) head = toAssignmentHead(item);
      else if (sk.startsWith(prefixes.assignmentShard)) shards.push(toAssignmentShard(item));
      else if (sk.startsWith(prefixes.endpoint)) endpoints.push(toStoredEndpoint(item));
    }
    return { endpoints, ...(head ? { head } : {}), shards };
  }

  private async listEndpoints(service: string): Promise<StoredEndpoint[]> {
    const items = await this.table.query('renderAssignment', {
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': servicePartition(service), ':prefix': prefixes.endpoint },
      ConsistentRead: true,
    });
    return items.map(toStoredEndpoint);
  }

  private async generationMoved(service: string, generation: number): Promise<boolean> {
    const item = await this.table.get('foldEndpoint', keys.endpointAssignment(service), { consistent: true });
    return (item ? toAssignmentHead(item).layout?.generation : undefined) !== generation;
  }

  /** shardItem is a shard as stored: its entries gzipped, their digest, and its stamp. */
  private shardItem(service: string, generation: number, index: number, entries: readonly AssignmentEntry[], stamp: number): Item {
    const digest = digestOf(entries);
    return {
      ...keys.assignmentShard(service, generation, index),
      body: packJson(entries),
      stamp,
      count: digest.count,
      sum1: digest.sum1,
      sum2: digest.sum2,
      bytes: digest.bytes,
    };
  }
}

/** assembled is the assignment the shards of a head hold, with the version of what was read. */
function assembled(service: string, head: AssignmentHead, shards: readonly AssignmentShardItem[]): EndpointAssignmentItem {
  const digest = shards.map((s) => s.digest).reduce<AssignmentDigest>(addDigest, emptyDigest);
  const renderedAt = head.renderedAt ?? new Date(0).toISOString();
  return {
    resource: assembleAssignment(service, shards.map((s) => s.entries)),
    version: assignmentVersion(service, digest),
    revision: head.revision,
    renderedAt,
    changedAt: head.changedAt ?? renderedAt,
  };
}

const liveOf = (stored: readonly StoredEndpoint[]): Endpoint[] => stored.flatMap((s) => (s.removed ? [] : [s.endpoint]));

/** forEachLimited runs `fn` over `items` with at most `limit` running at once. */
export async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

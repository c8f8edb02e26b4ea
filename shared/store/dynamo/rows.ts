import * as z from 'zod';
import { CorruptItemError } from '../../errors';
import { Endpoint, endpointHealths, endpointSourceKinds } from '../../model/endpoint';
import { NodeStatus } from '../../model/node-status';
import { ServiceSpec, toProblems } from '../../model/spec';
import { EnvoyResource, RetiringResource, SnapshotResources } from '../../envoy/resources';
import { unpackJson } from '../codec';
import { prefixes } from '../layout';
import { ChangeRecord, timeOfSequence } from '../change-log';
import { AssignmentEntry } from '../assignment-shards';
import { AssignmentHead, AssignmentShardItem, EndpointAssignmentItem, ServiceRecord, ServiceSecretsItem, SnapshotItem, StoredEndpoint } from '../records';
import { Item } from './table';

/**
 * Rows are validated on the way out: an item that is not what its key promises fails with
 * CorruptItemError naming the key and the field, rather than travelling on as a bad cast.
 * Specs and node status were validated whole on the way in; here their envelope is checked.
 */

const bytes = z.instanceof(Uint8Array);
const text = z.string();
const versions = z.record(z.string(), z.string());

const serviceRow = z.object({
  spec: z.looseObject({ name: z.string(), dependencies: z.array(z.looseObject({ service: z.string() })) }),
  revision: z.number(),
  updatedAt: text,
});
const source = z.looseObject({ kind: z.enum(endpointSourceKinds), eventId: z.string(), orderingKey: z.number() });
const endpointRow = z.discriminatedUnion('removed', [
  z.object({
    removed: z.literal(false),
    orderingKey: z.number(),
    endpoint: z.looseObject({ address: z.string(), port: z.number(), health: z.enum(endpointHealths), source }),
  }),
  z.object({ removed: z.literal(true), orderingKey: z.number(), removedSource: source }),
]);
const assignmentRow = z.object({ body: bytes, version: text, renderedRevision: z.number(), renderedAt: text, changedAt: text.optional() });
const digestFields = { count: z.number(), sum1: z.number(), sum2: z.number(), bytes: z.number() };
const headRow = z.object({
  endpointRevision: z.number().optional(),
  generation: z.number().optional(),
  shards: z.number().int().positive().optional(),
  overLimit: z.number().optional(),
  count: z.number().optional(),
  sum1: z.number().optional(),
  sum2: z.number().optional(),
  bytes: z.number().optional(),
  body: bytes.optional(),
  renderedAt: text.optional(),
  changedAt: text.optional(),
});
const shardRow = z.object({ body: bytes, stamp: z.number(), ...digestFields });
const snapshotRow = z.object({
  body: bytes,
  versions,
  specRevision: z.number(),
  renderedAt: text,
  changedAt: text.optional(),
  identity: z.object({ iamRoleArns: z.array(z.string()) }).optional(),
  proxyless: bytes.optional(),
  proxylessVersions: versions.optional(),
  retiring: bytes.optional(),
  proxylessRetiring: bytes.optional(),
});
const secretsRow = z.object({
  certificatePem: text,
  sealedPrivateKey: bytes,
  trustBundlePem: text,
  notBefore: text,
  notAfter: text,
  serial: text,
  issuedForRoles: z.array(z.string()).optional(),
  sds: bytes.optional(),
  sdsVersions: versions.optional(),
});
const nodeRow = z.object({
  status: z.looseObject({ nodeId: z.string(), service: z.string(), lastPollAt: z.string(), subscriptions: z.record(z.string(), z.unknown()) }),
  expiresAt: z.number(),
});
const aliasRow = z.object({ service: text });
const dependentRow = z.object({ caller: text });
const caRow = z.object({ certificatePem: text, retiredCertificatePem: text.optional() });
const dataKeyRow = z.object({ ciphertext: bytes });
const changeRow = z.object({ sk: text, service: text, item: z.enum(['snapshot', 'eds', 'secrets']), version: text });

function row<S extends z.ZodType>(schema: S, item: Item): z.output<S> {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new CorruptItemError({ pk: item.pk, sk: item.sk }, toProblems(parsed.error));
  return parsed.data;
}

const serviceOfPartition = (item: Item) => String(item.pk).slice(prefixes.service.length);

export function toServiceRecord(item: Item): ServiceRecord {
  const r = row(serviceRow, item);
  return { spec: r.spec as unknown as ServiceSpec, revision: r.revision, updatedAt: r.updatedAt };
}

export function toStoredEndpoint(item: Item): StoredEndpoint {
  const r = row(endpointRow, item);
  const service = serviceOfPartition(item);
  const id = String(item.sk).slice(prefixes.endpoint.length);
  return r.removed
    ? { removed: true, service, id, orderingKey: r.orderingKey, source: r.removedSource as Endpoint['source'] }
    : { removed: false, service, id, orderingKey: r.orderingKey, endpoint: r.endpoint as unknown as Endpoint };
}

/** renderedTimes are when an item was rendered and when the change it reflects happened (renderedAt when not recorded). */
const renderedTimes = (r: { renderedAt: string; changedAt?: string | undefined }) => ({
  renderedAt: r.renderedAt,
  changedAt: r.changedAt ?? r.renderedAt,
});

export function toAssignment(item: Item): EndpointAssignmentItem {
  const { body, version, renderedRevision, ...times } = row(assignmentRow, item);
  return { resource: unpackJson<EnvoyResource>(body), version, revision: renderedRevision, ...renderedTimes(times) };
}

/** toAssignmentHead reads a service's EDS item: a counter, a sharded assignment's head, or a whole assignment stored before shards. */
export function toAssignmentHead(item: Item): AssignmentHead {
  const r = row(headRow, item);
  const layout =
    r.generation !== undefined && r.shards !== undefined
      ? {
          generation: r.generation,
          shards: r.shards,
          digest: { count: r.count ?? 0, sum1: r.sum1 ?? 0, sum2: r.sum2 ?? 0, bytes: r.bytes ?? 0 },
          overLimit: r.overLimit ?? 0,
        }
      : undefined;
  return {
    revision: r.endpointRevision ?? 0,
    ...(layout ? { layout } : {}),
    legacy: !layout && r.body !== undefined,
    ...(r.renderedAt !== undefined ? { renderedAt: r.renderedAt } : {}),
    ...(r.changedAt !== undefined ? { changedAt: r.changedAt } : {}),
  };
}

/** toAssignmentShard reads one shard (`EDS#<generation>#<index>`): generation and index come from its key. */
export function toAssignmentShard(item: Item): AssignmentShardItem {
  const { body, stamp, ...digest } = row(shardRow, item);
  const match = /^EDS#(\d+)#(\d+)$/.exec(String(item.sk));
  if (!match) throw new CorruptItemError({ pk: item.pk, sk: item.sk }, [{ path: 'sk', message: 'not an assignment shard key' }]);
  const entries = unpackJson<AssignmentEntry[]>(body);
  if (!Array.isArray(entries)) throw new CorruptItemError({ pk: item.pk, sk: item.sk }, [{ path: 'body', message: 'not a list of entries' }]);
  return { generation: Number(match[1]), index: Number(match[2]), entries, digest, stamp };
}

/** renderedServiceOf names the service a rendered item (SNAPSHOT, EDS, SECRETS) belongs to. */
export const renderedServiceOf = serviceOfPartition;

export function toSnapshotItem(item: Item): SnapshotItem {
  const { body, versions, specRevision, identity, proxyless, proxylessVersions, retiring, proxylessRetiring, ...times } = row(snapshotRow, item);
  return {
    resources: unpackJson<SnapshotResources>(body),
    versions,
    specRevision,
    ...renderedTimes(times),
    ...(identity ? { identity } : {}),
    ...(retiring ? { retiringClusters: unpackJson<RetiringResource[]>(retiring) } : {}),
    ...(proxyless && proxylessVersions
      ? {
          proxyless: {
            resources: unpackJson<SnapshotResources>(proxyless),
            versions: proxylessVersions,
            ...(proxylessRetiring ? { retiringClusters: unpackJson<RetiringResource[]>(proxylessRetiring) } : {}),
          },
        }
      : {}),
  };
}

export function toServiceSecrets(item: Item): ServiceSecretsItem {
  const { sds, sdsVersions, ...issued } = row(secretsRow, item);
  return {
    ...issued,
    ...(sds && sdsVersions ? { rendered: { resources: unpackJson<EnvoyResource[]>(sds), versions: sdsVersions } } : {}),
  };
}

/** toNodeStatus reads a node's status item, with when it expires (epoch seconds). */
export function toNodeStatus(item: Item): { status: NodeStatus; expiresAt: number } {
  const r = row(nodeRow, item);
  return { status: r.status as unknown as NodeStatus, expiresAt: r.expiresAt };
}

export const aliasTarget = (item: Item): string => row(aliasRow, item).service;
export const dependentCaller = (item: Item): string => row(dependentRow, item).caller;
export const caCertificate = (item: Item): string => row(caRow, item).certificatePem;
/** caRetiredCertificate is the CA a rotation replaced, kept in the trust bundle until no certificate of it is left. */
export const caRetiredCertificate = (item: Item): string | undefined => row(caRow, item).retiredCertificatePem;
export const dataKeyCiphertext = (item: Item): Uint8Array => row(dataKeyRow, item).ciphertext;

/** toChangeRecord reads a change-log record (CHANGES#<shard> / <sequence>). */
export function toChangeRecord(item: Item): ChangeRecord {
  const r = row(changeRow, item);
  return { sequence: r.sk, service: r.service, item: r.item, version: r.version, at: timeOfSequence(r.sk) };
}

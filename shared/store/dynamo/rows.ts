import { CorruptItemError } from '../../errors';
import type { Endpoint } from '../../model/endpoint';
import { endpointHealths, endpointSourceKinds } from '../../model/endpoint-terms';
import { NodeStatus } from '../../model/node-status';
import type { ServiceSpec } from '../../model/spec';
import { EnvoyResource, RetiringResource, SnapshotResources } from '../../envoy/resources';
import { Shape, arrayOf, bytes, check, integer, literal, looseObject, number, object, oneOf, optional, recordOf, string, unknown } from '../../shape';
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
 * The checks are shapes (shared/shape.ts), not zod: the xds function reads rows on its polls.
 */

const text = string();
const versions = recordOf(string());

const serviceRow = object({
  spec: looseObject({ name: string(), dependencies: arrayOf(looseObject({ service: string() })) }),
  revision: number,
  updatedAt: text,
});
const source = looseObject({ kind: oneOf(endpointSourceKinds), eventId: string(), orderingKey: number });
const liveEndpointRow = object({
  removed: literal(false),
  orderingKey: number,
  endpoint: looseObject({ address: string(), port: number, health: oneOf(endpointHealths), source }),
});
const tombstoneRow = object({ removed: literal(true), orderingKey: number, removedSource: source });
const assignmentRow = object({ body: bytes, version: text, renderedRevision: number, renderedAt: text, changedAt: optional(text) });
const digestFields = { count: number, sum1: number, sum2: number, bytes: number };
const headRow = object({
  endpointRevision: optional(number),
  generation: optional(number),
  shards: optional(integer),
  overLimit: optional(number),
  count: optional(number),
  sum1: optional(number),
  sum2: optional(number),
  bytes: optional(number),
  body: optional(bytes),
  renderedAt: optional(text),
  changedAt: optional(text),
});
const shardRow = object({ body: bytes, stamp: number, ...digestFields });
const snapshotRow = object({
  body: bytes,
  versions,
  specRevision: number,
  renderedAt: text,
  changedAt: optional(text),
  identity: optional(object({ iamRoleArns: arrayOf(string()) })),
  proxyless: optional(bytes),
  proxylessVersions: optional(versions),
  retiring: optional(bytes),
  proxylessRetiring: optional(bytes),
});
const secretsRow = object({
  certificatePem: text,
  sealedPrivateKey: bytes,
  trustBundlePem: text,
  notBefore: text,
  notAfter: text,
  serial: text,
  issuedForRoles: optional(arrayOf(string())),
  sds: optional(bytes),
  sdsVersions: optional(versions),
});
/** A gateway listener's certificate slot: attribute `gwcert<port>` of the secrets item (gatewayCertificateAttribute). */
const gatewayCertificateRow = object({
  sourceArn: text,
  sourceVersion: text,
  certificatePem: text,
  sealedPrivateKey: bytes,
  fingerprint: text,
  notAfter: text,
  copiedAt: text,
  version: text,
});
const gatewayCertificatePrefix = 'gwcert';
/** gatewayCertificateAttribute names the attribute of the secrets item that holds one listener's certificate. */
export const gatewayCertificateAttribute = (port: number): string => `${gatewayCertificatePrefix}${port}`;
const nodeRow = object({
  status: looseObject({ nodeId: string(), service: string(), lastPollAt: string(), subscriptions: recordOf(unknown) }),
  expiresAt: number,
});
const aliasRow = object({ service: text });
const dependentRow = object({ caller: text });
const caRow = object({ certificatePem: text, retiredCertificatePem: optional(text) });
const dataKeyRow = object({ ciphertext: bytes });
const changeRow = object({ sk: text, service: text, item: oneOf(['snapshot', 'eds', 'secrets']), version: text });

function row<T>(shape: Shape<T>, item: Item): T {
  const read = check(shape, item);
  if (!read.ok) throw new CorruptItemError({ pk: item.pk, sk: item.sk }, read.problems);
  return read.value;
}

const serviceOfPartition = (item: Item) => String(item.pk).slice(prefixes.service.length);

export function toServiceRecord(item: Item): ServiceRecord {
  const r = row(serviceRow, item);
  return { spec: r.spec as unknown as ServiceSpec, revision: r.revision, updatedAt: r.updatedAt };
}

export function toStoredEndpoint(item: Item): StoredEndpoint {
  const r = item.removed === true ? row(tombstoneRow, item) : row(liveEndpointRow, item);
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
  const gatewayCertificates = Object.keys(item)
    .filter((k) => k.startsWith(gatewayCertificatePrefix) && /^\d+$/.test(k.slice(gatewayCertificatePrefix.length)))
    .map((k) => {
      const read = check(gatewayCertificateRow, item[k]);
      if (!read.ok) throw new CorruptItemError({ pk: item.pk, sk: item.sk }, read.problems.map((p) => ({ ...p, path: p.path ? `${k}.${p.path}` : k })));
      return { port: Number(k.slice(gatewayCertificatePrefix.length)), ...read.value };
    })
    .sort((a, b) => a.port - b.port);
  return {
    ...issued,
    ...(sds && sdsVersions ? { rendered: { resources: unpackJson<EnvoyResource[]>(sds), versions: sdsVersions } } : {}),
    ...(gatewayCertificates.length > 0 ? { gatewayCertificates } : {}),
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

import * as z from 'zod';
import { CorruptItemError } from '../../errors';
import { Endpoint, endpointHealths, endpointSourceKinds } from '../../model/endpoint';
import { NodeStatus } from '../../model/node-status';
import { ServiceSpec, toProblems } from '../../model/spec';
import { EnvoyResource, RetiringResource, SnapshotResources } from '../../envoy/resources';
import { unpackJson } from '../codec';
import { prefixes } from '../layout';
import { ChangeRecord, timeOfSequence } from '../change-log';
import { EndpointAssignmentItem, ServiceRecord, ServiceSecretsItem, SnapshotItem, StoredEndpoint } from '../records';
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

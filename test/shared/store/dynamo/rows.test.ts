import { CorruptItemError } from '../../../../shared/errors';
import { packJson } from '../../../../shared/store/codec';
import {
  aliasTarget,
  toAssignment,
  toNodeStatus,
  toServiceRecord,
  toServiceSecrets,
  toSnapshotItem,
  toStoredEndpoint,
} from '../../../../shared/store/dynamo/rows';

const source = { kind: 'ecs-task', eventId: 'e1', eventTime: '2026-11-25T10:00:00Z', orderingKey: 3 };
const endpoint = { service: 'payments', id: 't1', address: '10.0.0.1', port: 15000, health: 'healthy', labels: {}, source };
const body = packJson({ name: 'x' });

describe('rows are validated on the way out', () => {
  it.each<[string, (item: Record<string, unknown>) => unknown, Record<string, unknown>, unknown]>([
    [
      'a spec',
      toServiceRecord,
      { pk: 'CATALOG', sk: 'SVC#a', spec: { name: 'a', dependencies: [] }, revision: 2, updatedAt: 't' },
      { spec: { name: 'a', dependencies: [] }, revision: 2, updatedAt: 't' },
    ],
    [
      'a live endpoint',
      toStoredEndpoint,
      { pk: 'SVC#payments', sk: 'EP#t1', removed: false, orderingKey: 3, endpoint },
      { removed: false, service: 'payments', id: 't1', orderingKey: 3, endpoint },
    ],
    [
      'a tombstone',
      toStoredEndpoint,
      { pk: 'SVC#payments', sk: 'EP#t1', removed: true, orderingKey: 3, removedSource: source, expiresAt: 9 },
      { removed: true, service: 'payments', id: 't1', orderingKey: 3, source },
    ],
    [
      'a rendered assignment without changedAt',
      toAssignment,
      { pk: 'SVC#a', sk: 'EDS', body, version: 'v', renderedRevision: 4, renderedAt: 'r' },
      { resource: { name: 'x' }, version: 'v', revision: 4, renderedAt: 'r', changedAt: 'r' },
    ],
    [
      'a snapshot',
      toSnapshotItem,
      { pk: 'SVC#a', sk: 'SNAPSHOT', body, versions: { clusters: 'c' }, specRevision: 1, renderedAt: 'r', changedAt: 'c' },
      { resources: { name: 'x' }, versions: { clusters: 'c' }, specRevision: 1, renderedAt: 'r', changedAt: 'c' },
    ],
    ['an ECS alias', aliasTarget, { pk: 'CATALOG', sk: 'ECS#a', service: 'a' }, 'a'],
  ])('reads %s', (_what, read, item, expected) => {
    expect(read(item)).toEqual(expected);
  });

  it('reads secrets with their rendered SDS resources only when both parts are there', () => {
    const issued = { certificatePem: 'c', sealedPrivateKey: new Uint8Array([1]), trustBundlePem: 'b', notBefore: 'nb', notAfter: 'na', serial: 's' };
    expect(toServiceSecrets({ pk: 'SVC#a', sk: 'SECRETS', kind: 'secrets', ...issued })).toEqual(issued);
    expect(toServiceSecrets({ pk: 'SVC#a', sk: 'SECRETS', ...issued, sds: packJson([{ name: 'x' }]), sdsVersions: { x: 'v' } })).toEqual({
      ...issued,
      rendered: { resources: [{ name: 'x' }], versions: { x: 'v' } },
    });
  });

  it.each<[string, (item: Record<string, unknown>) => unknown, Record<string, unknown>, string]>([
    ['a spec without a revision', toServiceRecord, { pk: 'CATALOG', sk: 'SVC#a', spec: { name: 'a', dependencies: [] }, updatedAt: 't' }, 'revision'],
    ['an endpoint of an unknown health', toStoredEndpoint, { pk: 'SVC#p', sk: 'EP#t1', removed: false, orderingKey: 3, endpoint: { ...endpoint, health: 'odd' } }, 'endpoint.health'],
    ['a snapshot whose body is text', toSnapshotItem, { pk: 'SVC#a', sk: 'SNAPSHOT', body: 'x', versions: {}, specRevision: 1, renderedAt: 'r' }, 'body'],
    ['node status without an expiry', (i) => toNodeStatus(i), { pk: 'NODES#a', sk: 'NODE#n', status: { nodeId: 'n', service: 'a', lastPollAt: 't', subscriptions: {} } }, 'expiresAt'],
    ['secrets without a sealed key', toServiceSecrets, { pk: 'SVC#a', sk: 'SECRETS', certificatePem: 'c' }, 'sealedPrivateKey'],
  ])('refuses %s, naming the key and the field', (_what, read, item, field) => {
    expect(() => read(item)).toThrow(CorruptItemError);
    expect(() => read(item)).toThrow(new RegExp(`${String(item.pk)} / ${String(item.sk)}.*${field.replace('.', '\\.')}`));
  });
});

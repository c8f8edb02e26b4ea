import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defaults } from '../../shared/config';
import { changeLogDefaults } from '../../shared/store/change-log';
import { DynamoCertificates } from '../../shared/store/dynamo/certificates';
import { DynamoChangeLog } from '../../shared/store/dynamo/change-log';
import { DynamoNodeStatus } from '../../shared/store/dynamo/node-status';
import { DynamoRendered } from '../../shared/store/dynamo/rendered';
import { DynamoAssignments } from '../../shared/store/dynamo/assignments';
import { StateTable } from '../../shared/store/dynamo/table';
import type { CertificateRepository, NodeStatusRepository, RenderedRepository } from '../../shared/store/repositories';

/**
 * XdsStore is all a poll reads and writes: rendered items, node status, and the sealed data
 * key (read only: the xds function never makes it). MeshStore satisfies it (tests and the local
 * runner pass one).
 */
export type XdsStore = Pick<RenderedRepository, 'getRendered' | 'getRenderedMany'> &
  Pick<NodeStatusRepository, 'getNodeStatus' | 'putNodeStatus'> &
  Pick<CertificateRepository, 'getSealedDataKey' | 'putSealedDataKey'>;

/**
 * xdsStoreOf wires the three repositories a poll uses over the table, as MeshStore wires them
 * (shared/store/mesh-store.ts) with the defaults the functions use, and nothing else: the
 * catalog's and endpoints' code stays out of the xds bundle (docs/deploy.md).
 */
export function xdsStoreOf(doc: DynamoDBDocumentClient, tableName: string): XdsStore {
  const table = new StateTable(doc, tableName);
  const now = () => new Date();
  const changes = new DynamoChangeLog(table, changeLogDefaults, () => now().getTime());
  // Assignments are stored in shards (docs/table-layout.md): reading one reads its head and shards.
  const rendered = new DynamoRendered(table, changes, new DynamoAssignments(table, changes, now));
  const certificates = new DynamoCertificates(table, changes);
  const nodes = new DynamoNodeStatus(table, { nodeStatusTtlSeconds: defaults.nodeStatusTtlSeconds, now });
  return {
    getRendered: (...args) => rendered.getRendered(...args),
    getRenderedMany: (...args) => rendered.getRenderedMany(...args),
    getNodeStatus: (...args) => nodes.getNodeStatus(...args),
    putNodeStatus: (...args) => nodes.putNodeStatus(...args),
    getSealedDataKey: () => certificates.getSealedDataKey(),
    putSealedDataKey: (...args) => certificates.putSealedDataKey(...args),
  };
}

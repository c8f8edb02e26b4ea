/**
 * The single-table layout. Every key the control plane reads or writes is built here, so the
 * whole layout can be read in one place (docs/table-layout.md explains the why).
 *
 * | pk              | sk                 | item                                                   |
 * |-----------------|--------------------|--------------------------------------------------------|
 * | CATALOG         | SVC#<name>         | a declared service spec, with its revision              |
 * | CATALOG         | ECS#<ecsService>   | which mesh service an ECS service's tasks belong to     |
 * | CATALOG         | CA                 | the mesh CA certificate (public; its key stays in KMS)  |
 * | CATALOG         | DATAKEY            | the data key that seals secrets, encrypted by KMS       |
 * | CATALOG         | REBUILD            | the fleet rebuild: its target digest, cursor, lease     |
 * | SVC#<name>      | SECRETS            | the service's certificate, its key sealed, the bundle   |
 * | SVC#<name>      | DEPENDENT#<caller> | <caller> depends on <name> (reverse index for re-render)|
 * | SVC#<name>      | EP#<endpointId>    | one endpoint, or its tombstone (TTL) once removed      |
 * | SVC#<name>      | EDS                | the assignment's head: revision, layout, digest        |
 * | SVC#<name>      | EDS#<gen>#<shard>  | one shard of <name>'s assignment (its endpoints, ≤1 KB) |
 * | SVC#<name>      | SNAPSHOT           | rendered LDS/RDS/CDS for the nodes of <name>           |
 * | NODES#<name>    | NODE#<nodeId>      | what one Envoy of <name> last polled and applied (TTL) |
 * | CHANGES#<shard> | <ms>#<writer>      | a rendered item of a service changed (TTL; change-log) |
 * | ROLLOUTS        | ROLLOUT#<id>       | a progressive rollout's state and decisions (rollout/)  |
 *
 * Node status has a partition of its own (`NODES#`, never shared with another kind of item) so
 * that the xds function's write permission can be limited to it by `dynamodb:LeadingKeys`
 * (infra/iam.ts, nodeStatusWrites): a forged or buggy poll cannot write a spec, a snapshot or a
 * secret.
 */

export const catalogPk = 'CATALOG';
/** rolloutsPartition holds every rollout's state: the controller reads them all with one Query. */
export const rolloutsPartition = 'ROLLOUTS';

export const keys = {
  service: (name: string) => ({ pk: catalogPk, sk: `SVC#${name}` }),
  ecsAlias: (ecsService: string) => ({ pk: catalogPk, sk: `ECS#${ecsService}` }),
  dependent: (service: string, caller: string) => ({ pk: `SVC#${service}`, sk: `DEPENDENT#${caller}` }),
  endpoint: (service: string, id: string) => ({ pk: `SVC#${service}`, sk: `EP#${id}` }),
  endpointAssignment: (service: string) => ({ pk: `SVC#${service}`, sk: 'EDS' }),
  assignmentShard: (service: string, generation: number, index: number) => ({
    pk: `SVC#${service}`,
    sk: `${assignmentShardPrefix(generation)}${String(index).padStart(6, '0')}`,
  }),
  snapshot: (service: string) => ({ pk: `SVC#${service}`, sk: 'SNAPSHOT' }),
  secrets: (service: string) => ({ pk: `SVC#${service}`, sk: 'SECRETS' }),
  certificateAuthority: () => ({ pk: catalogPk, sk: 'CA' }),
  dataKey: () => ({ pk: catalogPk, sk: 'DATAKEY' }),
  nodeStatus: (service: string, nodeId: string) => ({ pk: nodeStatusPartition(service), sk: `NODE#${nodeId}` }),
  change: (shard: number, sequence: string) => ({ pk: changeLogPartition(shard), sk: sequence }),
  rollout: (id: string) => ({ pk: rolloutsPartition, sk: `ROLLOUT#${id}` }),
  rebuild: () => ({ pk: catalogPk, sk: 'REBUILD' }),
} as const;

/**
 * changeLogPartition holds one shard of the change log (shared/store/change-log.ts): records
 * sorted by a time-ordered sequence, so a server reads what changed since a time with one
 * Query per shard, whatever the number of services.
 */
export function changeLogPartition(shard: number): string {
  return `CHANGES#${shard}`;
}

/**
 * assignmentShardPrefix begins the sort keys of one generation of a service's assignment
 * shards (state/assignment.ts): a reader Queries them with it, after reading the head.
 */
export function assignmentShardPrefix(generation: number): string {
  return `EDS#${String(generation).padStart(12, '0')}#`;
}

/**
 * endpointStateRange bounds, in one Query of `SVC#<name>`, the assignment's head and shards and
 * every endpoint item ('EDS' < 'EDS#…' < 'EP#…' < 'EP$'): what the reconciler reads per service.
 */
export const endpointStateRange = { from: 'EDS', to: 'EP$' } as const;

export const prefixes = {
  service: 'SVC#',
  dependent: 'DEPENDENT#',
  endpoint: 'EP#',
  assignmentShard: 'EDS#',
  node: 'NODE#',
} as const;

export const servicePartition = (service: string) => `SVC#${service}`;

/** nodeStatusPartitionPrefix begins every node-status partition key, and no other item's. */
export const nodeStatusPartitionPrefix = 'NODES#';

/** nodeStatusPartition holds the status items of one service's Envoys, and nothing else. */
export function nodeStatusPartition(service: string): string {
  return `${nodeStatusPartitionPrefix}${service}`;
}

/** ttlAttribute is the table's TTL attribute (epoch seconds): tombstones, node status and change records expire by it. */
export const ttlAttribute = 'expiresAt';

/** tableDefinition is the key schema shared by the CDK table, the local runner and tests. */
export const tableDefinition = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute,
} as const;

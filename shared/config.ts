/**
 * The control plane's configuration defaults, in one place. The Lambda functions read their
 * environment against them (functions/lib/config.ts), the CDK construct sets and documents
 * them (infra/control-plane.ts), the local runner starts from them (local/server.ts), and the
 * store and the core fall back to them. A leaf: it imports nothing.
 */
/** The CloudWatch namespace of every metric the control plane publishes (functions, push tier, alarms). */
export const metricsNamespace = 'EnvoyControlPlane';

export const defaults = {
  /** The EC2 tag naming the mesh service of an instance (env MESH_TAG_KEY). */
  meshTagKey: 'mesh:service',
  /** How long the xds function reuses a snapshot read from the table (env SNAPSHOT_CACHE_TTL_MS). */
  snapshotCacheTtlMs: 2000,
  /** The xds function's timeout: a poll that takes longer ends as a Lambda error, not an answer. */
  xdsTimeoutSeconds: 5,
  /**
   * How long one poll may spend reading the table, SDK retries included, before it answers
   * from the last snapshot its container read (or 503). Half the function's timeout: a
   * throttled table must end in an answer, not in a Lambda timeout.
   */
  xdsReadBudgetMs: 2500,
  /**
   * The largest ClusterLoadAssignment served, as JSON. A Lambda function URL answers at most
   * 6 MB (the synchronous response payload limit), about 22,000 endpoints of one service; the
   * cap leaves room for the DiscoveryResponse around it. Past it, the endpoints that fit are
   * served (healthy first) and the rest are counted, never an answer Lambda cannot send.
   */
  maxAssignmentBytes: 5 * 1024 * 1024,
  /** A node's status is written at most once per this gap (env NODE_STATUS_MIN_WRITE_GAP_MS). */
  nodeStatusMinWriteGapMs: 5000,
  /**
   * An unchanged node's status is rewritten this often so it stays listed (env
   * NODE_STATUS_LIVENESS_MS). 5 min (was 1 min): the liveness rewrite was most of the
   * node-status writes (docs/cost.md); a node stays listed for the status TTL, far longer.
   */
  nodeStatusLivenessMs: 300_000,
  /** How long a node that stopped polling stays listed. */
  nodeStatusTtlSeconds: 3600,
  /** How long a removed endpoint's tombstone keeps late events from resurrecting it. */
  tombstoneTtlSeconds: 24 * 3600,
  /** Service certificate lifetime; renewed at half of it (env CERTIFICATE_LIFETIME_SECONDS). */
  certificateLifetimeSeconds: 24 * 3600,
  /**
   * How long a cluster a render dropped is still served, with the current ones, to a node that
   * has not yet applied listeners and routes that stop using it (make before break for
   * removals). Past it, it goes even from a node that never applies them (one that keeps
   * rejecting its listeners): many Envoy refresh delays, short enough to keep CDS small.
   */
  retiringClusterTtlMs: 10 * 60_000,
  /** The most retiring clusters one snapshot keeps (the newest ones). */
  maxRetiringClusters: 100,
  /** Reserved concurrency of the lifecycle function. */
  lifecycleConcurrency: 10,
} as const;

/**
 * localRunnerDefaults are where the local runner departs from AWS: it converges faster, so a
 * change is visible to a developer's Envoy within a second or two.
 */
export const localRunnerDefaults = {
  snapshotCacheTtlMs: 1000,
  nodeStatusMinWriteGapMs: 1000,
  nodeStatusLivenessMs: 30_000,
} as const;

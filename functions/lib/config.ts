import { RenderSettings, defaultRenderSettings } from '../../shared/render/settings';
import { parseMeshName } from '../../shared/pki/identity';

/**
 * FunctionConfig is read once per container from the environment the CDK stack sets; a
 * missing required variable fails the cold start with its name, not a later request.
 */
export interface FunctionConfig {
  readonly tableName: string;
  /** Only for the local runner and tests: where the DynamoDB-compatible store listens. */
  readonly dynamodbEndpoint?: string;
  readonly region: string;
  readonly render: RenderSettings;
  readonly snapshotCacheTtlMs: number;
  /** A node's status is written at most once per this gap (cost: one write per node per gap at most). */
  readonly nodeStatusMinWriteGapMs: number;
  /** An unchanged node's status is refreshed this often, so it stays listed as live. */
  readonly nodeStatusLivenessMs: number;
  /** The EC2 tag that says which mesh service an instance belongs to. */
  readonly meshTagKey: string;
}

export function readConfig(env: NodeJS.ProcessEnv = process.env): FunctionConfig {
  const tableName = env.TABLE_NAME;
  if (!tableName) throw new Error('TABLE_NAME is not set: the function does not know its state table');
  return {
    tableName,
    dynamodbEndpoint: env.DYNAMODB_ENDPOINT || undefined,
    region: env.AWS_REGION ?? 'us-east-1',
    render: {
      xdsClusterName: env.XDS_CLUSTER_NAME ?? defaultRenderSettings.xdsClusterName,
      refreshDelay: env.XDS_REFRESH_DELAY ?? defaultRenderSettings.refreshDelay,
      requestTimeout: env.XDS_REQUEST_TIMEOUT ?? defaultRenderSettings.requestTimeout,
      meshName: parseMeshName(env.MESH_NAME ?? defaultRenderSettings.meshName),
    },
    snapshotCacheTtlMs: positiveInt(env, 'SNAPSHOT_CACHE_TTL_MS', 2000),
    nodeStatusMinWriteGapMs: positiveInt(env, 'NODE_STATUS_MIN_WRITE_GAP_MS', 5000),
    nodeStatusLivenessMs: positiveInt(env, 'NODE_STATUS_LIVENESS_MS', 60000),
    meshTagKey: env.MESH_TAG_KEY ?? 'mesh:service',
  };
}

function positiveInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

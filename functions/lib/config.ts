import { EgressPolicy, RenderSettings, RouteDelivery, defaultRenderSettings, routeDeliveries } from '../../shared/render/settings';
import { parseMeshName } from '../../shared/pki/identity';
import { AuthMode } from '../../shared/xds/authorization';
import { defaults } from '../../shared/config';

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
  /** How polls are authenticated: `iam` behind the IAM-auth function URL (the only mode deployed). */
  readonly xdsAuthMode: AuthMode;
  /** The symmetric KMS key whose data key seals service private keys (SDS on when set). */
  readonly dataKeyId?: string;
  /** The asymmetric KMS key (SIGN_VERIFY) that is the mesh CA (issuance on when set). */
  readonly caKeyId?: string;
  /** Service certificate lifetime and when to renew it. */
  readonly certificateLifetimeSeconds: number;
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
      routeDelivery: routeDelivery(env.XDS_ROUTE_DELIVERY || 'rds'),
      ...(env.MESH_SERVICE_DOMAIN ? { serviceDomain: env.MESH_SERVICE_DOMAIN } : {}),
      ...(env.MESH_EGRESS ? { egress: egressPolicy(env.MESH_EGRESS) } : {}),
      ...(env.SYSTEM_CA_BUNDLE_PATH ? { systemCaBundlePath: env.SYSTEM_CA_BUNDLE_PATH } : {}),
      ...(env.MESH_PROXYLESS_MTLS ? { proxylessMtls: booleanFlag('MESH_PROXYLESS_MTLS', env.MESH_PROXYLESS_MTLS) } : {}),
    },
    // 0 is meaningful for these two: no cache, and a status write on every change.
    snapshotCacheTtlMs: integer(env, 'SNAPSHOT_CACHE_TTL_MS', defaults.snapshotCacheTtlMs, 0),
    nodeStatusMinWriteGapMs: integer(env, 'NODE_STATUS_MIN_WRITE_GAP_MS', defaults.nodeStatusMinWriteGapMs, 0),
    nodeStatusLivenessMs: integer(env, 'NODE_STATUS_LIVENESS_MS', defaults.nodeStatusLivenessMs, 1),
    meshTagKey: env.MESH_TAG_KEY || defaults.meshTagKey,
    xdsAuthMode: authMode(env.XDS_AUTH_MODE ?? 'iam'),
    dataKeyId: env.DATA_KEY_ID || undefined,
    caKeyId: env.CA_KEY_ID || undefined,
    certificateLifetimeSeconds: integer(env, 'CERTIFICATE_LIFETIME_SECONDS', defaults.certificateLifetimeSeconds, 1),
  };
}

function routeDelivery(raw: string): RouteDelivery {
  if ((routeDeliveries as readonly string[]).includes(raw)) return raw as RouteDelivery;
  throw new Error(`XDS_ROUTE_DELIVERY must be ${routeDeliveries.join(' or ')}, got "${raw}"`);
}

function booleanFlag(name: string, raw: string): boolean {
  if (raw === 'true' || raw === 'false') return raw === 'true';
  throw new Error(`${name} must be true or false, got "${raw}"`);
}

function egressPolicy(raw: string): EgressPolicy {
  if (raw === 'allow-declared' || raw === 'allow-all') return raw;
  throw new Error(`MESH_EGRESS must be allow-declared or allow-all, got "${raw}"`);
}

function authMode(raw: string): AuthMode {
  if (raw === 'iam' || raw === 'token' || raw === 'none') return raw;
  throw new Error(`XDS_AUTH_MODE must be iam, token or none, got "${raw}"`);
}

/** integer reads a whole number of at least `min` (0 or 1), naming the variable when it is not one. */
function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: 0 | 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a ${min === 0 ? 'non-negative' : 'positive'} integer, got "${raw}"`);
  }
  return value;
}

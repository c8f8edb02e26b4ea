import { defaults } from '../../shared/config';
import type { Context, APIGatewayProxyEventV2, APIGatewayProxyEventV2WithIAMAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleDiscovery } from '../../shared/api/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { AuthMode, Principal } from '../../shared/xds/authorization';
import { SecretSealer } from '../../shared/secrets/sealer';
import type { FunctionConfig } from '../lib/config';
import type { XdsStore } from './store';
import { toHttpRequest, toLambdaResult } from '../lib/http-adapter';
import { MetricWindow, metricsNamespace } from '../lib/telemetry';
import { createJsonLogger } from '../lib/json-logger';
import { EmfMetrics } from '../lib/emf';

/** XdsSecurity is how the xDS function authenticates callers and opens the secrets it serves. */
export interface XdsSecurity {
  readonly authMode: AuthMode;
  /** Resolved once per container (a KMS Decrypt of the data key in AWS). */
  readonly sealer?: () => Promise<SecretSealer>;
  /** Reads the caller from the request: the IAM principal the function URL verified, or a local token. */
  readonly principalOf?: (event: APIGatewayProxyEventV2) => Principal | undefined;
}

/** iamPrincipalOf reads the caller a function URL with AWS_IAM auth verified (its SigV4 signature). */
export function iamPrincipalOf(event: APIGatewayProxyEventV2): Principal | undefined {
  const arn = (event as APIGatewayProxyEventV2WithIAMAuthorizer).requestContext?.authorizer?.iam?.userArn;
  return typeof arn === 'string' && arn ? { kind: 'iam', arn } : undefined;
}

/** XdsRuntime is what the xds function reads per container: its configuration and the store a poll uses (a Runtime is one). */
export interface XdsRuntime {
  readonly config: FunctionConfig;
  readonly store: XdsStore;
}

/**
 * createXdsHandler wires the REST xDS core to a Lambda function URL: Envoys on VMs and in
 * tasks POST their DiscoveryRequests here every few seconds. The cache and the node tracker
 * live as long as the container, so most polls cost no DynamoDB operation at all.
 */
export function createXdsHandler(runtime: XdsRuntime, security: XdsSecurity = { authMode: runtime.config.xdsAuthMode }) {
  const logger = createJsonLogger('xds');
  const window = new MetricWindow(new EmfMetrics(metricsNamespace, 'xds'));
  const cache = new SnapshotCache(runtime.store, { ttlMs: runtime.config.snapshotCacheTtlMs, readBudgetMs: defaults.xdsReadBudgetMs });
  const tracker = new NodeTracker(runtime.store, {
    minWriteGapMs: runtime.config.nodeStatusMinWriteGapMs,
    livenessIntervalMs: runtime.config.nodeStatusLivenessMs,
  });
  const principalOf = security.principalOf ?? iamPrincipalOf;
  let sealer: Promise<SecretSealer> | undefined;
  /** openSealer loads the sealer once; a failure is retried on a later poll, and only SDS answers 503 meanwhile. */
  const openSealer = async (): Promise<SecretSealer | 'unavailable' | undefined> => {
    if (!security.sealer) return undefined;
    sealer ??= security.sealer();
    try {
      return await sealer;
    } catch (err) {
      sealer = undefined;
      logger.error('the secrets data key could not be loaded', { error: err as Error });
      return 'unavailable';
    }
  };
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const opened = await openSealer();
    const answer = await handleDiscovery(
      { cache, tracker, authMode: security.authMode, ...(opened ? { sealer: opened } : {}) },
      toHttpRequest(event),
      principalOf(event),
    );
    const { poll } = answer;
    window.count(
      answer.status === 304 ? 'PollsNotModified' : answer.status === 200 ? 'PollsAnswered' : answer.status >= 500 ? 'PollsFailed' : 'PollsRefused',
    );
    if (poll?.nack) {
      window.count('Nacks');
      logger.warn('envoy rejected an update', { nodeId: poll.nodeId, service: poll.service, nack: poll.nack });
    }
    if (poll?.trackingError) logger.warn('node status not recorded', { nodeId: poll.nodeId, error: poll.trackingError });
    if (answer.status === 401 || answer.status === 403) logger.warn('poll refused', { path: event.rawPath, status: answer.status });
    if (answer.status >= 500) logger.error('discovery failed', { path: event.rawPath, status: answer.status });
    window.flushIfDue();
    return toLambdaResult(answer);
  };
  // What Powertools' injectLambdaContext middleware did: the invocation's keys on every line.
  const handler = (event: APIGatewayProxyEventV2, context: Context): Promise<APIGatewayProxyStructuredResultV2> => {
    logger.addContext(context);
    return handle(event);
  };
  return Object.assign(handler, { cache, tracker, metrics: window });
}

import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleDiscovery } from '../../shared/xds/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { NodeTracker } from '../../shared/xds/node-tracker';
import { Runtime } from '../lib/runtime';
import { toHttpRequest, toLambdaResult } from '../lib/http-adapter';
import { createLogger, createMetrics } from '../lib/observability';

/**
 * createXdsHandler wires the REST xDS core to a Lambda function URL: Envoys on VMs and in
 * tasks POST their DiscoveryRequests here every few seconds. The cache and the node tracker
 * live as long as the container, so most polls cost no DynamoDB operation at all.
 */
export function createXdsHandler(runtime: Runtime) {
  const logger = createLogger('xds');
  const metrics = createMetrics('xds');
  const cache = new SnapshotCache(runtime.store, { ttlMs: runtime.config.snapshotCacheTtlMs });
  const tracker = new NodeTracker(runtime.store, {
    minWriteGapMs: runtime.config.nodeStatusMinWriteGapMs,
    livenessIntervalMs: runtime.config.nodeStatusLivenessMs,
  });
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const answer = await handleDiscovery({ cache, tracker }, toHttpRequest(event));
    const { poll } = answer;
    metrics.addMetric(
      answer.status === 304 ? 'PollsNotModified' : answer.status === 200 ? 'PollsAnswered' : answer.status >= 500 ? 'PollsFailed' : 'PollsRefused',
      MetricUnit.Count,
      1,
    );
    if (poll?.nack) {
      metrics.addMetric('Nacks', MetricUnit.Count, 1);
      logger.warn('envoy rejected an update', { nodeId: poll.nodeId, service: poll.service, nack: poll.nack });
    }
    if (poll?.trackingError) logger.warn('node status not recorded', { nodeId: poll.nodeId, error: poll.trackingError });
    if (answer.status >= 500) logger.error('discovery failed', { path: event.rawPath, status: answer.status });
    return toLambdaResult(answer);
  };
  return Object.assign(middy(handle).use(injectLambdaContext(logger)).use(logMetrics(metrics)), { cache, tracker });
}

import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleDiscovery } from '../../shared/xds/discovery';
import { SnapshotCache } from '../../shared/xds/snapshot-cache';
import { Runtime } from '../lib/runtime';
import { toHttpRequest, toLambdaResult } from '../lib/http-adapter';
import { createLogger, createMetrics } from '../lib/observability';

/**
 * createXdsHandler wires the REST xDS core to a Lambda function URL: Envoys on VMs and in
 * tasks POST their DiscoveryRequests here every few seconds.
 */
export function createXdsHandler(runtime: Runtime) {
  const logger = createLogger('xds');
  const metrics = createMetrics('xds');
  const cache = new SnapshotCache(runtime.store, { ttlMs: runtime.config.snapshotCacheTtlMs });
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const response = await handleDiscovery({ cache }, toHttpRequest(event));
    metrics.addMetric(response.status === 304 ? 'PollsNotModified' : response.status === 200 ? 'PollsAnswered' : 'PollsFailed', MetricUnit.Count, 1);
    if (response.status >= 500) logger.error('discovery failed', { path: event.rawPath, status: response.status });
    return toLambdaResult(response);
  };
  return Object.assign(middy(handle).use(injectLambdaContext(logger)).use(logMetrics(metrics)), { cache });
}

import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { handleAdminRequest } from '../../shared/api/admin';
import { Runtime } from '../lib/runtime';
import { toHttpRequest, toLambdaResult } from '../lib/http-adapter';
import { createLogger } from '../lib/observability';

/** createAdminHandler wires the management API (service specs, nodes) to a Lambda function URL. */
export function createAdminHandler(runtime: Runtime) {
  const logger = createLogger('admin');
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const response = await handleAdminRequest({ store: runtime.store, settings: runtime.config.render }, toHttpRequest(event));
    if (response.status >= 500) logger.error('admin request failed', { path: event.rawPath, status: response.status });
    return toLambdaResult(response);
  };
  return middy(handle).use(injectLambdaContext(logger));
}

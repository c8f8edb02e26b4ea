import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpRequest, HttpResponse } from '../../shared/api/http';

/**
 * toHttpRequest reads a Lambda function URL (or HTTP API v2) event into the core's request
 * shape; toLambdaResult writes the core's answer back. Header names are lower-cased by AWS.
 */
export function toHttpRequest(event: APIGatewayProxyEventV2): HttpRequest {
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  return {
    method: event.requestContext.http.method.toUpperCase(),
    path: event.rawPath,
    query: event.queryStringParameters ?? {},
    headers: event.headers ?? {},
    body,
  };
}

export function toLambdaResult(response: HttpResponse): APIGatewayProxyStructuredResultV2 {
  const hasBody = response.body !== undefined;
  return {
    statusCode: response.status,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...response.headers },
    body: hasBody ? JSON.stringify(response.body) : '',
  };
}

import { Tracer } from '@aws-lambda-powertools/tracer';

/** Logs and metrics live in telemetry.ts (which the xds function imports alone); re-exported for the others. */
export { MetricWindow, createLogger, createMetrics, metricsNamespace } from './telemetry';

/**
 * tracer is the container's one X-Ray tracer (service name from POWERTOOLS_SERVICE_NAME, which
 * MeshFunction sets). Outside Lambda it is disabled and changes nothing, so tests and the local
 * runner run untraced.
 */
export const tracer = new Tracer();

/**
 * traced makes every call of an AWS SDK v3 client an X-Ray subsegment (DynamoDB, KMS, EC2, ECS,
 * Auto Scaling, SQS): with active tracing on the functions, a slow poll or event shows which
 * call it waited on. A DynamoDB document client shares its base client's middleware, so
 * tracing either traces both.
 */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

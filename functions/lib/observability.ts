import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/** The metric namespace every function publishes to; the dashboard reads it. */
export const metricsNamespace = 'EnvoyControlPlane';

export function createLogger(serviceName: string): Logger {
  return new Logger({ serviceName });
}

export function createMetrics(serviceName: string): Metrics {
  return new Metrics({ namespace: metricsNamespace, serviceName });
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { statsTags } from '../shared/render/stats';
import { dataPlaneMetricsNamespace } from './sidecar/telemetry';

/**
 * The data plane's half of the mesh dashboard: what the sidecars measure (render/stats.ts),
 * as the CloudWatch agent publishes it (namespace EnvoyMesh, one dimension per tag). The
 * services are not listed here: the panels are Metrics Insights queries grouped by
 * mesh_service (and mesh_dependency), so a service appears once its sidecars send, and a new
 * one needs no deploy. Metrics Insights reads the last 3 hours, the dashboard's default range;
 * latency percentiles, which it does not compute, come from SEARCH expressions.
 */

const t = statsTags;

/** metricName is a stat as the DogStatsD sink sends it: `envoy.` and the name with its tags cut out. */
const metricName = (stat: string) => `envoy.${stat}`;

/** insights is a Metrics Insights query over the sidecars' metrics, one series per group. */
export function insights(stat: string, where: Readonly<Record<string, string>>, groupBy: readonly string[], label: string, namespace = dataPlaneMetricsNamespace): cloudwatch.MathExpression {
  const conditions = Object.entries(where).map(([k, v]) => `${k} = '${v}'`);
  const expression =
    `SELECT SUM("${metricName(stat)}") FROM "${namespace}"` +
    (conditions.length > 0 ? ` WHERE ${conditions.join(' AND ')}` : '') +
    (groupBy.length > 0 ? ` GROUP BY ${groupBy.join(', ')}` : '');
  return new cloudwatch.MathExpression({ expression, usingMetrics: {}, label, period: Duration.minutes(1) });
}

/** latency is a percentile of a timing stat of the inbound listeners, one series per service and zone (SEARCH). */
function latency(stat: string, percentile: string, namespace: string): cloudwatch.MathExpression {
  return new cloudwatch.MathExpression({
    expression: `SEARCH('Namespace="${namespace}" MetricName="${metricName(stat)}" ${t.listener} inbound', '${percentile}', 60)`,
    usingMetrics: {},
    label: percentile,
    period: Duration.minutes(1),
  });
}

/**
 * dataPlaneWidgets are the golden signals per service (requests, errors, latency, from its
 * inbound listeners), then per dependency as its callers see it (errors, retries, overflows,
 * ejections, failed connects), then security (handshake failures, RBAC and JWT denials) and
 * configuration that Envoys rejected.
 */
export function dataPlaneWidgets(namespace = dataPlaneMetricsNamespace): cloudwatch.IWidget[][] {
  const q = (stat: string, where: Record<string, string>, groupBy: string[], label: string) => insights(stat, where, groupBy, label, namespace);
  const inbound = { [t.listener]: 'inbound' };
  const perDependency = [t.service, t.dependency];
  return [
    [
      new cloudwatch.TextWidget({
        markdown:
          `## Data plane: the sidecars (namespace ${namespace})\n` +
          `Sent by each Envoy with \`observability.metrics\` on, through the CloudWatch agent beside it. ` +
          `Per service from its inbound listener; per dependency as its callers see it (\`${t.dependency}\`).`,
        width: 24,
        height: 2,
      }),
    ],
    [
      new cloudwatch.GraphWidget({ title: 'Requests per service (inbound, per minute)', left: [q('http.downstream_rq_total', inbound, [t.service], 'requests')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: '5xx per service (inbound, per minute)',
        left: [q('http.downstream_rq_xx', { ...inbound, [t.responseClass]: '5' }, [t.service], '5xx')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Latency per service and zone (inbound, ms)',
        left: [latency('http.downstream_rq_time', 'p50', namespace), latency('http.downstream_rq_time', 'p99', namespace)],
        width: 8,
      }),
    ],
    [
      new cloudwatch.GraphWidget({
        title: 'Calls per dependency: 5xx and 4xx seen by callers',
        left: [q('cluster.upstream_rq_xx', { [t.responseClass]: '5' }, perDependency, '5xx')],
        right: [q('cluster.upstream_rq_xx', { [t.responseClass]: '4' }, perDependency, '4xx')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Retries and circuit-breaker overflows per dependency',
        left: [q('cluster.upstream_rq_retry', {}, perDependency, 'retries')],
        right: [
          q('cluster.upstream_rq_pending_overflow', {}, perDependency, 'pending overflow'),
          q('cluster.upstream_cx_overflow', {}, perDependency, 'connection overflow'),
          q('cluster.upstream_rq_retry_overflow', {}, perDependency, 'retry overflow'),
        ],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Outlier ejections and failed connects per dependency',
        left: [q('cluster.outlier_detection.ejections_enforced_total', {}, perDependency, 'ejections')],
        right: [q('cluster.upstream_cx_connect_fail', {}, perDependency, 'connect failures')],
        width: 8,
      }),
    ],
    [
      new cloudwatch.GraphWidget({
        title: 'mTLS handshake failures',
        left: [q('listener.ssl.connection_error', {}, [t.service], 'inbound'), q('cluster.ssl.connection_error', {}, perDependency, 'outbound')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Denied callers (RBAC) and tokens (JWT)',
        left: [q('http.rbac.denied', {}, [t.service], 'RBAC (HTTP)'), q('inbound.rbac.denied', {}, [t.service], 'RBAC (TCP)')],
        right: [q('http.jwt_authn.denied', {}, [t.service], 'JWT')],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Configuration rejected by Envoys (their side of a NACK)',
        left: [q('cluster_manager.cds.update_rejected', {}, [t.service], 'CDS'), q('listener_manager.lds.update_rejected', {}, [t.service], 'LDS')],
        width: 8,
      }),
    ],
  ];
}

/** ServiceErrorAlarmOptions tune the per-service error alarm (ControlPlaneMonitoring.watchService). */
export interface ServiceErrorAlarmOptions {
  /** 5xx a minute answered by the service's inbound listeners above which a minute counts as bad. @default 10 */
  readonly errorsPerMinute?: number;
  /** How many bad minutes in a row raise the alarm. @default 3 */
  readonly minutes?: number;
}

/**
 * serviceErrors is the number of 5xx a service's sidecars answered on their inbound listener
 * (the stat prefix is the spec's statsPrefix), summed over zones and tasks: one series, which a
 * Metrics Insights alarm needs.
 */
export function serviceErrors(service: string, inboundStatPrefix: string, namespace = dataPlaneMetricsNamespace): cloudwatch.MathExpression {
  return insights('http.downstream_rq_xx', { [t.service]: service, [t.listener]: inboundStatPrefix, [t.responseClass]: '5' }, [], `${service} 5xx`, namespace);
}

import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { metricsNamespace } from '../functions/lib/telemetry';
import { pushMetricNames, pushMetricsService } from '../server/metrics';
import { ServiceErrorAlarmOptions, dataPlaneWidgets, serviceErrors } from './dashboard';

export interface ControlPlaneMonitoringProps {
  readonly functions: readonly lambda.Function[];
  readonly deadLetterQueues: readonly sqs.IQueue[];
  readonly alarmTopic?: sns.ITopic;
  /** With certificate renewal: how long without a completed renewal run raises RenewalMissed. @default - no renewal alarm */
  readonly renewalMissedPeriod?: Duration;
  /** With the push tier (infra/xds-server.ts): its alarms and widgets. @default - none */
  readonly pushTier?: { readonly service: ecs.FargateService; readonly targetGroup: elbv2.NetworkTargetGroup; readonly minTasks: number };
  /** The CloudWatch namespace the sidecars' metrics land in (the data-plane rows of the dashboard). @default 'EnvoyMesh' */
  readonly dataPlaneNamespace?: string;
}

/**
 * meshMetric reads one of the functions' Powertools metrics: namespace EnvoyControlPlane,
 * dimension `service` = the emitting function's service name.
 */
export function meshMetric(service: string, metricName: string, statistic = 'Sum', period = Duration.minutes(1)): cloudwatch.Metric {
  return new cloudwatch.Metric({ namespace: metricsNamespace, metricName, dimensionsMap: { service }, statistic, period });
}

/**
 * ControlPlaneMonitoring alarms on what needs a person (a dead letter, a failing or throttled
 * function, an Envoy rejecting config) and draws what shows the fleet's health: polls and
 * their 304 ratio, NACKs, event lag, reconciler drift, nodes behind the latest version.
 */
export class ControlPlaneMonitoring extends Construct {
  public readonly alarms: cloudwatch.Alarm[] = [];
  public readonly dashboard: cloudwatch.Dashboard;
  private readonly alarmTopic?: sns.ITopic;
  private readonly dataPlaneNamespace?: string;

  constructor(scope: Construct, id: string, props: ControlPlaneMonitoringProps) {
    super(scope, id);
    this.alarmTopic = props.alarmTopic;
    this.dataPlaneNamespace = props.dataPlaneNamespace;
    const alarm = (alarmId: string, metric: cloudwatch.Metric, description: string, threshold = 0, evaluationPeriods = 1) => {
      const created = metric.createAlarm(this, alarmId, {
        alarmDescription: description,
        threshold,
        evaluationPeriods,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      if (props.alarmTopic) created.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(created);
      return created;
    };

    props.deadLetterQueues.forEach((queue) => {
      const id = queue.node.id;
      alarm(
        `${id}Depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1), statistic: 'Maximum' }),
        `${id}: messages are waiting in a dead-letter queue; each holds an event or drain the control plane gave up on`,
      );
    });
    props.functions.forEach((fn) => {
      const id = fn.node.id;
      alarm(`${id}Errors`, fn.metricErrors({ period: Duration.minutes(1) }), `${id}: the function failed`);
      alarm(`${id}Throttles`, fn.metricThrottles({ period: Duration.minutes(1) }), `${id}: invocations were throttled`);
    });
    alarm('Nacks', meshMetric('xds', 'Nacks'), 'An Envoy rejected served configuration (NACK): see the nodes report');
    alarm(
      'PollsRefused',
      meshMetric('xds', 'PollsRefused'),
      'Envoy polls were refused (401/403/404/400): a node whose role is not bound to its service, or a service not declared; see the xds log lines "poll refused"',
    );
    /** alarmFromEach alarms on one metric as each of several functions emits it, one alarm per function (id + suffix). */
    const alarmFromEach = (metricName: string, sources: readonly (readonly [service: string, idSuffix: string])[], description: (service: string) => string) => {
      for (const [service, suffix] of sources) alarm(`${metricName}${suffix}`, meshMetric(service, metricName), description(service));
    };
    alarmFromEach(
      'LaunchesAbandoned',
      [['lifecycle', ''], ['lifecycle-complete', 'Later']],
      (service) => `${service}: a launching instance never got its Envoy configured and was abandoned (its log says why: refused polls or NACKs)`,
    );
    alarm(
      'NodesBehind',
      meshMetric('reconciler', 'NodesBehind', 'Maximum', Duration.minutes(5)),
      'Envoys stayed behind the latest configuration for two reconciler runs: see the reconciler log and GET /nodes',
      0,
      2,
    );

    alarm(
      'VanishHeld',
      meshMetric('reconciler', 'VanishHeld'),
      'The reconciler held endpoints its ECS/EC2 listing no longer shows but AWS did not confirm gone (a wrong listing, or many tasks stopping at once): see the reconciler log "reconcile valve held endpoints"',
    );
    alarmFromEach(
      'EndpointsOverLimit',
      [['lifecycle', ''], ['reconciler', 'Reconciled']],
      (service) => `A service's endpoint assignment reached its size limit (about 19,000 endpoints): the endpoints past it get no traffic; see the ${service} log`,
    );

    // A rebuild under way for over an hour is stuck (at 10,000 services it needs a few slices: docs/benchmarks.md).
    alarm(
      'RebuildStalled',
      meshMetric('rebuild', 'RebuildAgeSeconds', 'Maximum', Duration.minutes(5)),
      'A fleet rebuild has been under way for over an hour: slices are failing, throttled or making no progress; see the rebuild log and GET /rebuild',
      3600,
    );
    alarm(
      'RebuildFailedServices',
      meshMetric('rebuild', 'RebuildFailedServices'),
      'A fleet rebuild finished with services whose snapshots kept failing to render: they serve their previous config; see GET /rebuild and the rebuild log "rebuild finished"',
    );

    if (props.renewalMissedPeriod) {
      // Missing data is breaching: a renewal that never runs (rule disabled, function throttled or
      // failing before it counts) emits nothing, and that is exactly what must alarm.
      const missed = meshMetric('renewal', 'RenewalRuns', 'Sum', props.renewalMissedPeriod).createAlarm(this, 'RenewalMissed', {
        alarmDescription:
          'No certificate renewal run completed in this period: renewals are failing or not running, and service certificates expire 24 h after issue; see the renewal log',
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      });
      if (props.alarmTopic) missed.addAlarmAction(new actions.SnsAction(props.alarmTopic));
      this.alarms.push(missed);
    }

    const polls = {
      answered: meshMetric('xds', 'PollsAnswered'),
      notModified: meshMetric('xds', 'PollsNotModified'),
      failed: meshMetric('xds', 'PollsFailed'),
      refused: meshMetric('xds', 'PollsRefused'),
    };
    const notModifiedRatio = new cloudwatch.MathExpression({
      expression: '100 * nm / (nm + ans + fail)',
      usingMetrics: { nm: polls.notModified, ans: polls.answered, fail: polls.failed },
      label: '304 ratio (%)',
      period: Duration.minutes(1),
    });
    const lag = (stat: string) => meshMetric('lifecycle', 'EventLag', stat).with({ label: `EventLag ${stat}` });
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', { defaultInterval: Duration.hours(3) });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({ title: 'xDS polls', left: [polls.answered, polls.notModified, polls.failed, polls.refused], width: 8 }),
      new cloudwatch.GraphWidget({ title: '304 ratio', left: [notModifiedRatio], leftYAxis: { min: 0, max: 100 }, width: 8 }),
      new cloudwatch.GraphWidget({ title: 'NACKs and refused polls', left: [meshMetric('xds', 'Nacks')], right: [polls.refused], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Lifecycle events',
        left: ['applied', 'stale', 'ignored'].map((o) => meshMetric('lifecycle', `Events_${o}`)).concat(meshMetric('lifecycle', 'EventsFailed')),
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Event lag (ms)', left: [lag('p50'), lag('p99'), lag('Maximum')], width: 8 }),
      new cloudwatch.GraphWidget({
        title: 'Reconciler drift',
        left: ['DriftAdded', 'DriftRemoved', 'DriftDrained', 'DriftUpdated'].map((m) => meshMetric('reconciler', m)),
        // AssignmentDrift: assignments the run found out of step with their endpoints and rendered again.
        right: [meshMetric('reconciler', 'ReconcileErrors'), meshMetric('reconciler', 'AssignmentDrift')],
        width: 8,
      }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Nodes behind the latest version; convergence of the last change (ms)',
        left: [meshMetric('reconciler', 'NodesBehind', 'Maximum', Duration.minutes(5)).with({ label: 'NodesBehind' })],
        right: [meshMetric('reconciler', 'ConvergenceMs', 'Maximum', Duration.minutes(5)).with({ label: 'slowest service to converge' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Function errors and throttles',
        left: props.functions.map((fn) => fn.metricErrors({ label: `${fn.node.id} errors` })),
        right: props.functions.map((fn) => fn.metricThrottles({ label: `${fn.node.id} throttles` })),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Lifecycle hooks: drains and launches',
        left: ['HooksCompleted', 'HooksExpired', 'CompletionsFailed', 'LaunchesReady', 'LaunchesAbandoned'].map((m) => meshMetric('lifecycle-complete', m)),
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Fleet rebuild: services rendered per slice; age of the run under way (s)',
        left: [meshMetric('rebuild', 'RebuildServices'), meshMetric('rebuild', 'RebuildErrors'), meshMetric('rebuild', 'RebuildFailedServices')],
        right: [meshMetric('rebuild', 'RebuildAgeSeconds', 'Maximum').with({ label: 'RebuildAgeSeconds' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({
        title: 'Dead-letter queues',
        left: props.deadLetterQueues.map((q) => q.metricApproximateNumberOfMessagesVisible({ label: q.node.id })),
        width: 8,
      }),
    );
    if (props.pushTier) this.watchPushTier(props.pushTier, alarm, props.alarmTopic);
    if (props.renewalMissedPeriod) {
      this.dashboard.addWidgets(
        new cloudwatch.GraphWidget({
          title: 'Certificate renewal',
          left: [meshMetric('renewal', 'CertificatesRenewed', 'Sum', Duration.hours(1))],
          right: [meshMetric('renewal', 'RenewalRuns', 'Sum', Duration.hours(1))],
          width: 8,
        }),
      );
    }
    // The data plane below the control plane: what the sidecars measure (infra/dashboard.ts).
    for (const row of dataPlaneWidgets(props.dataPlaneNamespace)) this.dashboard.addWidgets(...row);
  }

  /**
   * watchService alarms when a service's sidecars answer 5xx on their inbound listener, summed
   * over its tasks and zones, for several minutes in a row (a Metrics Insights alarm: the
   * sidecars' metrics carry the zone, which an alarm on one metric would have to name). The
   * MeshService construct calls it for each service whose metrics are on.
   */
  public watchService(service: string, inboundStatPrefix: string, options: ServiceErrorAlarmOptions = {}): cloudwatch.Alarm {
    const minutes = options.minutes ?? 3;
    const created = new cloudwatch.Alarm(this, `ServiceErrors-${service}`, {
      metric: serviceErrors(service, inboundStatPrefix, this.dataPlaneNamespace),
      alarmDescription: `${service}: its sidecars answered more than ${options.errorsPerMinute ?? 10} 5xx a minute for ${minutes} minutes; see the mesh dashboard and the access-log query mesh/${service}/5xx-by-dependency`,
      threshold: options.errorsPerMinute ?? 10,
      evaluationPeriods: minutes,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    if (this.alarmTopic) created.addAlarmAction(new actions.SnsAction(this.alarmTopic));
    this.alarms.push(created);
    return created;
  }

  /**
   * watchPushTier alarms on NACKs of pushed config, on slow pushes and on fewer healthy tasks than
   * the minimum, and draws streams (total and per task: what autoscaling tracks), pushes, NACKs,
   * push-to-ACK latency and the tasks' health and CPU.
   */
  private watchPushTier(
    tier: NonNullable<ControlPlaneMonitoringProps['pushTier']>,
    alarm: (id: string, metric: cloudwatch.Metric, description: string, threshold?: number, evaluationPeriods?: number) => cloudwatch.Alarm,
    topic: sns.ITopic | undefined,
  ): void {
    const push = (name: string, statistic = 'Sum') => meshMetric(pushMetricsService, name, statistic);
    alarm('PushNacks', push(pushMetricNames.nacks), 'An Envoy rejected configuration pushed over ADS (NACK): see GET /nodes and the push tier log');
    alarm(
      'PushLatencyHigh',
      push(pushMetricNames.pushLatency, 'p99'),
      'Envoys took over 10 s to acknowledge pushed configuration (p99, 5 minutes running): overloaded tasks or Envoys; see the push tier dashboard',
      10_000,
      5,
    );
    const healthy = tier.targetGroup.metrics.healthyHostCount({ statistic: 'Minimum', period: Duration.minutes(1) });
    const few = healthy.createAlarm(this, 'PushTierUnderCapacity', {
      alarmDescription: `Fewer push tier tasks are healthy behind the load balancer than the minimum (${tier.minTasks}) for 3 minutes: streams crowd on the rest; see the ECS service events`,
      threshold: tier.minTasks,
      evaluationPeriods: 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    if (topic) few.addAlarmAction(new actions.SnsAction(topic));
    this.alarms.push(few);
    const latency = (stat: string) => push(pushMetricNames.pushLatency, stat).with({ label: `PushLatency ${stat}` });
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Push tier: open streams',
        left: [push(pushMetricNames.activeStreams, 'Sum').with({ label: 'all tasks' })],
        right: [push(pushMetricNames.activeStreams, 'Average').with({ label: 'per task (autoscaling)' }), push(pushMetricNames.activeStreams, 'Maximum').with({ label: 'busiest task' })],
        width: 8,
      }),
      new cloudwatch.GraphWidget({ title: 'Push tier: pushes and NACKs', left: [push(pushMetricNames.pushes)], right: [push(pushMetricNames.nacks)], width: 8 }),
      new cloudwatch.GraphWidget({ title: 'Push tier: push to ACK (ms)', left: [latency('p50'), latency('p99'), latency('Maximum')], width: 8 }),
    );
    this.dashboard.addWidgets(
      new cloudwatch.GraphWidget({
        title: 'Push tier: tasks',
        left: [healthy.with({ label: 'healthy tasks' }), tier.targetGroup.metrics.unHealthyHostCount({ statistic: 'Maximum', label: 'unhealthy tasks' })],
        right: [tier.service.metricCpuUtilization({ label: 'CPU %' })],
        width: 8,
      }),
    );
  }
}

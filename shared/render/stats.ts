import { observabilityDefaults } from '../model/defaults';
import { ServiceSpec } from '../model/spec';
import { RenderSettings } from './settings';
import { TracingPolicy, tracingPolicy } from './tracing';

/**
 * Data-plane metrics: the bootstrap's stats configuration when a service's metrics are on.
 * Envoy's DogStatsD sink sends the kept stats, with their tags, to the CloudWatch agent's
 * StatsD listener beside Envoy (127.0.0.1:8125, UDP), which turns each tag into a CloudWatch
 * dimension (App Mesh's documented path). Cardinality is held in two places:
 *
 * - an inclusion list (`stats_matcher`): only the stats the mesh dashboard and alarms read are
 *   created at all (Envoy has thousands per cluster; a stat excluded here costs no memory either);
 * - our own tag extractors instead of Envoy's defaults (`use_all_default_tags: false`): a
 *   metric's dimensions are exactly mesh_service, mesh_zone, and where the name carries them
 *   mesh_dependency (the upstream cluster: a dependency, `local_app` or `xds_cluster`),
 *   mesh_listener (the HTTP or TCP stat prefix: `inbound`, `outbound_<dependency>`, `external`),
 *   mesh_response_class (2, 4, 5...) and mesh_listener_address. Never a node id or an address of
 *   an endpoint, which would make a metric per task.
 *
 * Stats live in the bootstrap: a change of `observability.metrics` reaches nodes started after it.
 */

const dogStatsdType = 'type.googleapis.com/envoy.config.metrics.v3.DogStatsdSink';

/** statsPrefix is the first segment of every metric name the sink sends (`envoy.cluster.upstream_rq_xx`). */
export const statsPrefix = 'envoy';

/** The CloudWatch dimensions the tags become, by what they say. */
export const statsTags = {
  service: 'mesh_service',
  zone: 'mesh_zone',
  dependency: 'mesh_dependency',
  listener: 'mesh_listener',
  responseClass: 'mesh_response_class',
  listenerAddress: 'mesh_listener_address',
} as const;

/**
 * labelTag is the tag (so the CloudWatch dimension) an endpoint label becomes on the stats of the
 * node that carries it, e.g. `mesh_revision`: what tells a rollout's subsets apart in the
 * metrics (shared/rollout, functions/lib/cloudwatch-rollout-metrics.ts).
 */
export function labelTag(key: string): string {
  return `mesh_${key}`;
}

/**
 * Tag extractors (RE2): the first capture group is cut out of the stat's name, the second (or
 * the only one) is the tag's value, so `cluster.payments.upstream_rq_5xx` is sent as `envoy.cluster.upstream_rq_xx`
 * with mesh_dependency=payments and mesh_response_class=5. Cluster and stat prefixes never
 * contain '.' (service names are DNS labels; prefixes are checked in the spec).
 */
const tagExtractors: readonly { tag_name: string; regex: string }[] = [
  { tag_name: statsTags.dependency, regex: '^cluster\\.(([^.]+)\\.)' },
  { tag_name: statsTags.listener, regex: '^(?:http|tcp)\\.(([^.]+)\\.)' },
  // One group: the value is cut out and the rest kept (Envoy's own extractor for the class).
  { tag_name: statsTags.responseClass, regex: '_rq_(\\d)xx$' },
  { tag_name: statsTags.listenerAddress, regex: '^listener\\.(([0-9._]+_[0-9]+)\\.)' },
];

/**
 * includedStats are the stats kept (full names, before tag extraction), per what the issue of a
 * mesh asks of its sidecars: request rate, errors by class and latency per listener and per
 * upstream; retries, circuit-breaker overflows, outlier ejections, connection failures and mTLS
 * handshake failures per upstream; RBAC and JWT denials; handshake failures of inbound
 * connections; and Envoy's own rejections and acceptances of served configuration.
 */
export const includedStats: readonly string[] = [
  '^cluster\\.[^.]+\\.(upstream_rq_total|upstream_rq_[2-5]xx|upstream_rq_time|upstream_rq_retry|upstream_rq_retry_overflow|upstream_rq_pending_overflow|upstream_cx_overflow|upstream_cx_connect_fail|outlier_detection\\.ejections_enforced_total|ssl\\.connection_error)$',
  '^http\\.[^.]+\\.(downstream_rq_total|downstream_rq_[2-5]xx|downstream_rq_time|rbac\\.denied|jwt_authn\\.denied)$',
  '^tcp\\.[^.]+\\.(downstream_cx_total|idle_timeout)$',
  '^listener\\.[0-9._]+_[0-9]+\\.ssl\\.(connection_error|fail_verify_no_cert|fail_verify_error)$',
  // The network RBAC filter of a TCP service counts under its own stat prefix.
  '^[A-Za-z0-9_]+\\.rbac\\.denied$',
  // Rejections are NACKs seen from the node; successes are what the sidecar's health check reads
  // (infra/sidecar/envoy-health.sh): a stat left out here would not exist, and no task would turn healthy.
  '^(cluster_manager\\.cds|listener_manager\\.lds)\\.update_(rejected|success)$',
];

/** MetricsPolicy is a service's effective metrics: the spec over the mesh-wide default, gaps from defaults.ts. */
export interface MetricsPolicy {
  readonly statsdPort: number;
  readonly extraStatPrefixes: readonly string[];
}

/** metricsPolicy resolves whether a service's Envoys send metrics, and where; undefined when they do not. */
export function metricsPolicy(spec: Pick<ServiceSpec, 'observability'>, settings: Pick<RenderSettings, 'observability'>): MetricsPolicy | undefined {
  const own = spec.observability?.metrics;
  const mesh = settings.observability?.metrics;
  const d = observabilityDefaults.metrics;
  if (!(own?.enabled ?? mesh?.enabled ?? d.enabled)) return undefined;
  return {
    statsdPort: own?.statsdPort ?? mesh?.statsdPort ?? d.statsdPort,
    extraStatPrefixes: [...new Set([...(mesh?.extraStatPrefixes ?? []), ...(own?.extraStatPrefixes ?? [])])].sort(),
  };
}

/**
 * statsConfig is the bootstrap's `stats_config`: without metrics, Envoy's default tags and the
 * service as a fixed tag (admin's /stats as ever); with them, the service, zone and the node's
 * endpoint labels as fixed tags, our extractors and the inclusion list.
 */
export function statsConfig(
  service: string,
  zone: string | undefined,
  metrics: MetricsPolicy | undefined,
  labels: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const service_ = { tag_name: statsTags.service, fixed_value: service };
  if (!metrics) return { use_all_default_tags: true, stats_tags: [service_] };
  const labelTags = Object.keys(labels)
    .sort()
    .map((key) => ({ tag_name: labelTag(key), fixed_value: labels[key]! }));
  return {
    use_all_default_tags: false,
    stats_tags: [service_, ...(zone ? [{ tag_name: statsTags.zone, fixed_value: zone }] : []), ...labelTags, ...tagExtractors],
    stats_matcher: {
      inclusion_list: {
        patterns: [...includedStats.map((regex) => ({ safe_regex: { regex } })), ...metrics.extraStatPrefixes.map((prefix) => ({ prefix }))],
      },
    },
  };
}

/**
 * statsSinks is the bootstrap's `stats_sinks`: DogStatsD to the agent on loopback, several
 * metrics per datagram (Envoy sends one per datagram unless told; loopback carries 8 KiB whole).
 */
export function statsSinks(metrics: MetricsPolicy | undefined): Record<string, unknown>[] {
  if (!metrics) return [];
  return [
    {
      name: 'envoy.stat_sinks.dog_statsd',
      typed_config: {
        '@type': dogStatsdType,
        address: { socket_address: { protocol: 'UDP', address: '127.0.0.1', port_value: metrics.statsdPort } },
        prefix: statsPrefix,
        max_bytes_per_datagram: 8192,
      },
    },
  ];
}

/**
 * BootstrapTelemetry is what a node's bootstrap needs of its service's observability: the stats
 * sink, and the collector cluster that an OpenTelemetry tracer names.
 */
export interface BootstrapTelemetry {
  readonly metrics?: MetricsPolicy;
  readonly tracing?: TracingPolicy;
}

/** bootstrapTelemetry resolves a service's observability for its nodes' bootstraps. */
export function bootstrapTelemetry(spec: Pick<ServiceSpec, 'observability'>, settings: Pick<RenderSettings, 'observability'>): BootstrapTelemetry {
  const metrics = metricsPolicy(spec, settings);
  const tracing = tracingPolicy(spec, settings);
  return { ...(metrics ? { metrics } : {}), ...(tracing ? { tracing } : {}) };
}

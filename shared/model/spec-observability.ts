import * as z from './zod';
import { port } from './spec-primitives';

/**
 * The `observability` block of a service spec (and, with the same shape, the mesh-wide
 * default on RenderSettings): what the service's Envoys measure and send to CloudWatch, and
 * whether they trace requests. Every field is optional; the defaults are in defaults.ts
 * (`observabilityDefaults`), and a service's fields win over the mesh-wide ones field by field.
 */


/** A stat name prefix as Envoy writes them (`cluster.payments.upstream_rq_5`): letters, digits, '_', '-' and '.'. */
const statPrefix = z
  .string()
  .check(z.minLength(1), z.maxLength(200), z.regex(/^[A-Za-z0-9_.-]+$/, 'must be a stat name prefix: letters, digits, "_", "-" or "."'));

export const metricsSchema = z.strictObject({
  /** Send the sidecar's stats to the local StatsD listener (the CloudWatch agent beside it). */
  enabled: z.optional(z.boolean()),
  /** Where the agent listens (UDP on 127.0.0.1). */
  statsdPort: z.optional(port),
  /**
   * Stats kept beyond the mesh's inclusion list (render/stats.ts), by prefix of their full name,
   * e.g. `cluster.payments.upstream_rq_503`. Every stat kept is a CloudWatch metric per
   * combination of its tags: each prefix here can add many.
   */
  extraStatPrefixes: z.optional(z.array(statPrefix).check(z.maxLength(20))),
});

export const tracingProviders = ['xray', 'opentelemetry'] as const;
export type TracingProvider = (typeof tracingProviders)[number];

export const tracingSchema = z.strictObject({
  /** `xray`: Envoy's X-Ray tracer to the daemon (UDP); `opentelemetry`: OTLP over gRPC to a local collector. */
  provider: z.enum(tracingProviders),
  /** Share of requests without a sampling decision that start a trace (0-100; decimals allowed). */
  samplingPercent: z.optional(z.number().check(z.minimum(0), z.maximum(100))),
  /** Where the X-Ray daemon (UDP) or the OpenTelemetry collector (OTLP gRPC) listens on 127.0.0.1. */
  collectorPort: z.optional(port),
});

export const observabilitySchema = z.strictObject({
  metrics: z.optional(metricsSchema),
  tracing: z.optional(tracingSchema),
});

export type MetricsSpec = z.output<typeof metricsSchema>;
export type TracingSpec = z.output<typeof tracingSchema>;
export type ObservabilitySpec = z.output<typeof observabilitySchema>;

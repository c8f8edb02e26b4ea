import * as z from 'zod';
import { Problem } from '../errors';
import { retryConditions } from './service-terms';
import { affinitySchema } from './spec-affinity';
import { rolloutSchema } from './spec-rollout';
import { subsetLabels } from './labels';
import { observabilitySchema } from './spec-observability';
import { interceptionSchema } from './spec-interception';
// spec-traffic.ts reads this module's primitives, so its schemas are read lazily: either module may load first.
import { faultsSchema, mirrorSchema, rateLimitSchema, trafficRoutesSchema } from './spec-traffic';
import { edgeFields, mtlsSchema, withEdgeKindPorts } from './spec-edges';
import { port, serviceName } from './spec-primitives';

/**
 * The service spec is what an operator declares about one mesh service. Its core fields
 * (name, inboundPort, appPort, protocol, dependencies[].service/localPort) are fixed because
 * tooling and docs depend on them; everything else is an optional extension with a default
 * written down in `defaults.ts`.
 */

export { port, serviceName } from './spec-primitives';

export const protocols = ['http', 'http2', 'grpc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];

/** Durations in the spec are whole milliseconds (`...Ms`); rendering turns them into proto Durations ("2.5s"). */
const DAY_MS = 86_400_000;
export const millis = z.int().min(0, 'must be 0 or more milliseconds').max(DAY_MS, 'must be at most 86400000 ms (one day)');
export const positiveMillis = z.int().min(1, 'must be at least 1 ms').max(DAY_MS, 'must be at most 86400000 ms (one day)');
const count = (max: number) => z.int().min(0).max(max);

// Retry conditions, ecsServiceNameOf and mtlsEnabledOf live in service-terms.ts, which loads no zod (the read path uses them).
export { grpcRetryConditions, httpRetryConditions, retryConditions } from './service-terms';
export type { RetryCondition } from './service-terms';

/** Endpoint labels that select a subset of a dependency's endpoints (labels.ts, where spec-rollout.ts reads them too). */
export { subsetLabels };

export const retriesSchema = z.strictObject({
  /** When to retry; defaults differ for HTTP and gRPC (see defaults.ts). */
  retryOn: z.array(z.enum(retryConditions)).min(1).max(retryConditions.length).optional(),
  /** Status codes retried by `retriable-status-codes`. */
  statusCodes: z.array(z.int().min(100).max(599)).min(1).max(20).optional(),
  numRetries: count(10).optional(),
  perTryTimeoutMs: millis.optional(),
  backOff: z.strictObject({ baseIntervalMs: positiveMillis.optional(), maxIntervalMs: positiveMillis.optional() }).optional(),
});

export const circuitBreakersSchema = z.strictObject({
  maxConnections: z.int().min(1).max(1_000_000).optional(),
  maxPendingRequests: z.int().min(1).max(1_000_000).optional(),
  maxRequests: z.int().min(1).max(1_000_000).optional(),
  maxRetries: count(1_000_000).optional(),
});

export const outlierDetectionSchema = z.strictObject({
  enabled: z.boolean().optional(),
  consecutive5xx: z.int().min(1).max(1000).optional(),
  consecutiveGatewayErrors: z.int().min(1).max(1000).optional(),
  intervalMs: positiveMillis.optional(),
  baseEjectionTimeMs: positiveMillis.optional(),
  maxEjectionPercent: z.int().min(0).max(100).optional(),
});

export const healthCheckSchema = z.strictObject({
  /** HTTP path probed on each host (HTTP and HTTP/2 dependencies). */
  path: z.string().min(1).max(1024).regex(/^\/[\x21-\x7e]*$/, 'must be an absolute path of printable characters').optional(),
  /** gRPC health service name (grpc.health.v1) for gRPC dependencies; empty checks the whole server. */
  grpcServiceName: z.string().max(256).optional(),
  intervalMs: positiveMillis.optional(),
  timeoutMs: positiveMillis.optional(),
  unhealthyThreshold: z.int().min(1).max(100).optional(),
  healthyThreshold: z.int().min(1).max(100).optional(),
});

export const splitSchema = z.strictObject({
  /** What the weights add up to (default 100). */
  total: z.int().min(1).max(10_000).optional(),
  subsets: z
    .array(z.strictObject({ labels: subsetLabels, weight: z.int().min(0).max(10_000) }))
    .min(1)
    .max(20),
});

export const headerRouteSchema = z.strictObject({
  /** Request header to match, e.g. `x-canary`. */
  header: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[0-9a-z!#$%&'*+\-.^_|~`]+$/, 'must be a lowercase HTTP header name'),
  /** Exact value to match; absent: the header being present is enough. */
  exact: z.string().min(1).max(1024).optional(),
  /** The subset that matching requests go to. */
  subset: subsetLabels,
});

export const zoneAwareSchema = z.strictObject({
  enabled: z.boolean().optional(),
  /** Below this many hosts, the dependency is balanced across zones as usual. */
  minClusterSize: z.int().min(0).max(10_000).optional(),
  routingEnabledPercent: z.int().min(0).max(100).optional(),
});

export const dependencySchema = z.strictObject({
  /** The mesh service this one calls. */
  service: serviceName,
  /** Where the payload reaches it: 127.0.0.1:localPort on the same host. */
  localPort: port,
  connectTimeoutMs: positiveMillis.optional(),
  /** Whole-call timeout, retries included (HTTP protocols); 0 disables it. */
  timeoutMs: millis.optional(),
  /** Idle timeout of a request (HTTP) or a connection (TCP); 0 disables it. */
  idleTimeoutMs: millis.optional(),
  retries: retriesSchema.optional(),
  circuitBreakers: circuitBreakersSchema.optional(),
  outlierDetection: outlierDetectionSchema.optional(),
  healthCheck: healthCheckSchema.optional(),
  /** Traffic split between endpoint subsets, e.g. 90 % revision 12, 10 % revision 13. */
  split: splitSchema.optional(),
  /** Requests matching a header go to a subset, before the split applies (HTTP protocols). */
  headerRoutes: z.array(headerRouteSchema).max(20).optional(),
  zoneAware: zoneAwareSchema.optional(),
  /** Sticky sessions: requests with the same header, cookie or caller go to the same endpoint (spec-affinity.ts). */
  affinity: affinitySchema.optional(),
  /** A progressive rollout of this caller's traffic from one subset to another (spec-rollout.ts). */
  rollout: rolloutSchema.optional(),
  /** Routes by path, method, headers and query, first match first, before headerRoutes and the split (spec-traffic.ts). */
  routes: z.lazy(() => trafficRoutesSchema).optional(),
  /** Injected delays and aborts on calls to this dependency, for chaos testing (spec-traffic.ts). */
  faults: z.lazy(() => faultsSchema).optional(),
  /** A copy of a share of the requests to another dependency, answers dropped (spec-traffic.ts). */
  mirror: z.lazy(() => mirrorSchema).optional(),
});

/** An https URL whose host is a DNS name: Envoy fetches it through a cluster it resolves by DNS, verifying the name. */
const httpsUrl = z
  .url({ protocol: /^https$/, hostname: /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/ })
  .max(2048);

/**
 * Host names that cannot be a public identity provider: loopback, link-local and instance
 * metadata names, and the special-use or private TLDs (RFC 6761, RFC 6762, ICANN's
 * `.internal`) that AWS, corporate networks and home routers resolve inside the VPC. A
 * sidecar that fetched keys there would trust whatever answers inside the network.
 */
const privateJwksHost = /(^|\.)(localhost|local|internal|intranet|corp|home|lan|private|test|example|invalid|arpa)$|^(instance-data|metadata)(\.|$)/i;

/**
 * nonPublicJwksUriProblem says why a JWKS URI cannot be a public identity provider's, or
 * undefined when it can: credentials in the URL, a port other than 443, a single-label or
 * private host name.
 */
export function nonPublicJwksUriProblem(uri: string): string | undefined {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return undefined; // the URL check itself reports it
  }
  if (url.username || url.password) return 'must not carry credentials (user:pass@)';
  if (url.port !== '' && url.port !== '443') return `port ${url.port} is not a public identity provider's (443)`;
  if (!url.hostname.includes('.')) return `host ${url.hostname} is a single label, not a public DNS name`;
  if (privateJwksHost.test(url.hostname)) return `host ${url.hostname} is private to a network, not a public identity provider`;
  return undefined;
}

export const jwtSchema = z.strictObject({
  /** The `iss` every token must carry. */
  issuer: z.url().max(2048),
  /** Accepted `aud` values: a token must carry at least one of them. */
  audiences: z.array(z.string().min(1).max(256)).min(1).max(20),
  /** Where the issuer publishes its signing keys (JWKS), fetched by the sidecar over TLS. */
  jwksUri: httpsUrl,
  /** A request header that carries the verified payload (base64url) to the payload. */
  forwardPayloadHeader: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[0-9a-z!#$%&'*+\-.^_|~`]+$/, 'must be a lowercase HTTP header name')
    .optional(),
  /** How long fetched keys are kept (default in defaults.ts). */
  cacheDurationSeconds: z.int().min(1).max(86_400).optional(),
  /**
   * Lets `jwksUri` name an identity provider inside the network (a private host name, another
   * port, credentials): off by default, because a JWKS from the wrong place makes any token valid.
   */
  allowPrivateJwksUri: z.boolean().optional(),
}).superRefine((jwt, ctx) => {
  if (jwt.allowPrivateJwksUri) return;
  const problem = nonPublicJwksUriProblem(jwt.jwksUri);
  if (problem) ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: `${problem}; set allowPrivateJwksUri to allow it` });
});

const serviceSpecObject = z.strictObject({
  name: serviceName,
  /** Where this service's Envoy accepts mesh traffic: the port other services' endpoints point at. */
  inboundPort: port,
  /** Where the payload listens on localhost. */
  appPort: port,
  protocol: z.enum(protocols),
  dependencies: z.array(dependencySchema).max(500).default([]),
  /** How this service is found in ECS. An ECS service maps to the mesh service of the same name unless set. */
  ecs: z
    .strictObject({
      /** The ECS service name (the task's `group` is `service:<serviceName>`). */
      serviceName: z.string().min(1).max(255).regex(/^[A-Za-z0-9_-]+$/, 'must be an ECS service name').optional(),
      /** The ECS cluster (name or ARN) the service runs in: the reconciler lists its tasks there. */
      cluster: z.string().min(1).max(2048).optional(),
    })
    .optional(),
  /**
   * How long a leaving VM drains before the Auto Scaling terminate hook is completed. At most
   * 900 s: the completion is scheduled as a delayed SQS message, whose delay caps there.
   */
  drainSeconds: z.int().min(0).max(900).optional(),
  /** JSON access log on stdout; on unless disabled. */
  accessLog: z.strictObject({ enabled: z.boolean().optional() }).optional(),
  /** Stat prefix of the inbound listener (default "inbound"). */
  statsPrefix: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[a-zA-Z0-9_]+$/, 'must be letters, digits or "_" (it becomes part of stat names)')
    .optional(),
  requestId: z.strictObject({ generate: z.boolean().optional(), preserveExternal: z.boolean().optional() }).optional(),
  /**
   * The inbound side: the route to the payload (its timeout, 0: none, and idle timeout), who
   * may call this service, and an optional JWT check on every request.
   */
  inbound: z
    .strictObject({
      timeoutMs: millis.optional(),
      idleTimeoutMs: millis.optional(),
      /**
       * The services allowed to call this one, matched on their certificate's SPIFFE ID, or
       * ["*"] for any mesh service. Absent: exactly the services that declare this one as a
       * dependency. Needs mTLS, which proves who the caller is.
       */
      allowedCallers: z.array(z.union([z.literal('*'), serviceName])).max(500).optional(),
      jwt: jwtSchema.optional(),
      /**
       * A second listener for traffic from outside the mesh (typically a load balancer's health
       * checks and requests): plaintext, no client certificate, no caller allow-list (a JWT check,
       * when declared, still applies). Restrict who reaches the port with security groups.
       * Absent: only mesh callers reach the service.
       */
      external: z.strictObject({ port }).optional(),
    })
    .optional(),
  /** A progressive rollout of every caller's traffic to this service, from one subset to another (spec-rollout.ts). */
  rollout: rolloutSchema.optional(),
  /** Mutual TLS with the mesh CA's certificates on the inbound listener and towards this service; on unless disabled. */
  mtls: mtlsSchema.optional(),
  /**
   * Who may fetch this service's configuration and certificate: the IAM roles of its instances
   * and tasks. A poll signed by another role is refused (403). ARNs of roles, compared by
   * partition, account and role name (an assumed-role session drops the role's path). A role
   * removed here has the service's key re-issued at once (declareService).
   */
  identity: z
    .strictObject({
      iamRoleArns: z
        .array(z.string().regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'))
        .max(20)
        .optional(),
    })
    .optional(),
  /** Metrics to CloudWatch and request tracing (spec-observability.ts); the mesh-wide default fills the gaps. */
  observability: observabilitySchema.optional(),
  /** How the payload reaches its dependencies: at 127.0.0.1 (default) or by name, intercepted (spec-interception.ts). */
  interception: z.lazy(() => interceptionSchema).optional(),
  /** A local rate limit on the requests this service's sidecar accepts: 429 beyond it (spec-traffic.ts). */
  rateLimit: z.lazy(() => rateLimitSchema).optional(),
  /** "service" (default), "gateway" or "external": spec-edges.ts. */
  kind: edgeFields.kind,
  /** kind "external": the host names, port and TLS of a service outside the mesh. */
  hosts: edgeFields.hosts,
  port: edgeFields.port,
  tls: edgeFields.tls,
  /** kind "gateway": where it accepts traffic from outside, and the mesh services it routes to. */
  listeners: edgeFields.listeners,
  routes: edgeFields.routes,
});

/** serviceSpecSchema parses a spec; a gateway or external service may leave out the core fields it does not use (withEdgeKindPorts). */
export const serviceSpecSchema = z.preprocess(withEdgeKindPorts, serviceSpecObject);

export type ServiceSpecInput = z.input<typeof serviceSpecObject>;
export type ServiceSpec = z.output<typeof serviceSpecObject>;
export type Dependency = ServiceSpec['dependencies'][number];

export { ecsServiceNameOf, mtlsEnabledOf } from './service-terms';

/** toProblems turns zod issues into path-located problems. */
export function toProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

import * as z from './zod';
import { Problem } from '../errors';
import { affinitySchema } from './spec-affinity';
import { rolloutSchema } from './spec-rollout';
import { observabilitySchema } from './spec-observability';
import { interceptionSchema } from './spec-interception';
import { faultsSchema, mirrorSchema, rateLimitSchema, trafficRoutesSchema } from './spec-traffic';
import { edgeFields, mtlsSchema, withEdgeKindPorts } from './spec-edges';
import { subsetLabels } from './labels';
import { headerName, httpPath, intBetween, millis, port, positiveMillis, retriesSchema, serviceName, splitSchema } from './spec-primitives';

/**
 * The service spec is what an operator declares about one mesh service. Its core fields
 * (name, inboundPort, appPort, protocol, dependencies[].service/localPort) are fixed because
 * tooling and docs depend on them; everything else is an optional extension with a default
 * written down in `defaults.ts`.
 */

export { intBetween, millis, port, positiveMillis, retriesSchema, serviceName, splitSchema } from './spec-primitives';

export const protocols = ['http', 'http2', 'grpc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];

// Retry conditions, ecsServiceNameOf and mtlsEnabledOf live in service-terms.ts, which loads no zod (the read path uses them).
export { grpcRetryConditions, httpRetryConditions, retryConditions } from './service-terms';
export type { RetryCondition } from './service-terms';

/** Endpoint labels that select a subset of a dependency's endpoints (labels.ts, where spec-rollout.ts reads them too). */
export { subsetLabels } from './labels';

export const circuitBreakersSchema = z.strictObject({
  maxConnections: z.optional(intBetween(1, 1_000_000)),
  maxPendingRequests: z.optional(intBetween(1, 1_000_000)),
  maxRequests: z.optional(intBetween(1, 1_000_000)),
  maxRetries: z.optional(intBetween(0, 1_000_000)),
});

export const outlierDetectionSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  consecutive5xx: z.optional(intBetween(1, 1000)),
  consecutiveGatewayErrors: z.optional(intBetween(1, 1000)),
  intervalMs: z.optional(positiveMillis),
  baseEjectionTimeMs: z.optional(positiveMillis),
  maxEjectionPercent: z.optional(intBetween(0, 100)),
});

export const healthCheckSchema = z.strictObject({
  /** HTTP path probed on each host (HTTP and HTTP/2 dependencies). */
  path: z.optional(httpPath),
  /** gRPC health service name (grpc.health.v1) for gRPC dependencies; empty checks the whole server. */
  grpcServiceName: z.optional(z.string().check(z.maxLength(256))),
  intervalMs: z.optional(positiveMillis),
  timeoutMs: z.optional(positiveMillis),
  unhealthyThreshold: z.optional(intBetween(1, 100)),
  healthyThreshold: z.optional(intBetween(1, 100)),
});


export const headerRouteSchema = z.strictObject({
  /** Request header to match, e.g. `x-canary`. */
  header: headerName,
  /** Exact value to match; absent: the header being present is enough. */
  exact: z.optional(z.string().check(z.minLength(1), z.maxLength(1024))),
  /** The subset that matching requests go to. */
  subset: subsetLabels,
});

export const zoneAwareSchema = z.strictObject({
  enabled: z.optional(z.boolean()),
  /** Below this many hosts, the dependency is balanced across zones as usual. */
  minClusterSize: z.optional(intBetween(0, 10_000)),
  routingEnabledPercent: z.optional(intBetween(0, 100)),
});

export const dependencySchema = z.strictObject({
  /** The mesh service this one calls. */
  service: serviceName,
  /** Where the payload reaches it: 127.0.0.1:localPort on the same host. */
  localPort: port,
  connectTimeoutMs: z.optional(positiveMillis),
  /** Whole-call timeout, retries included (HTTP protocols); 0 disables it. */
  timeoutMs: z.optional(millis),
  /** Idle timeout of a request (HTTP) or a connection (TCP); 0 disables it. */
  idleTimeoutMs: z.optional(millis),
  retries: z.optional(retriesSchema),
  circuitBreakers: z.optional(circuitBreakersSchema),
  outlierDetection: z.optional(outlierDetectionSchema),
  healthCheck: z.optional(healthCheckSchema),
  /** Traffic split between endpoint subsets, e.g. 90 % revision 12, 10 % revision 13. */
  split: z.optional(splitSchema),
  /** Requests matching a header go to a subset, before the split applies (HTTP protocols). */
  headerRoutes: z.optional(z.array(headerRouteSchema).check(z.maxLength(20))),
  zoneAware: z.optional(zoneAwareSchema),
  /** Sticky sessions: requests with the same header, cookie or caller go to the same endpoint (spec-affinity.ts). */
  affinity: z.optional(affinitySchema),
  /** A progressive rollout of this caller's traffic from one subset to another (spec-rollout.ts). */
  rollout: z.optional(rolloutSchema),
  /** Routes by path, method, headers and query, first match first, before headerRoutes and the split (spec-traffic.ts). */
  routes: z.optional(trafficRoutesSchema),
  /** Injected delays and aborts on calls to this dependency, for chaos testing (spec-traffic.ts). */
  faults: z.optional(faultsSchema),
  /** A copy of a share of the requests to another dependency, answers dropped (spec-traffic.ts). */
  mirror: z.optional(mirrorSchema),
});

/** An https URL whose host is a DNS name: Envoy fetches it through a cluster it resolves by DNS, verifying the name. */
const httpsUrl = z
  .url({ protocol: /^https$/, hostname: /^(?=.{1,253}$)([a-zA-Z0-9]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?\.)*[a-zA-Z]([-a-zA-Z0-9]{0,61}[a-zA-Z0-9])?$/ })
  .check(z.maxLength(2048));

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
  issuer: z.url().check(z.maxLength(2048)),
  /** Accepted `aud` values: a token must carry at least one of them. */
  audiences: z.array(z.string().check(z.minLength(1), z.maxLength(256))).check(z.minLength(1), z.maxLength(20)),
  /** Where the issuer publishes its signing keys (JWKS), fetched by the sidecar over TLS. */
  jwksUri: httpsUrl,
  /** A request header that carries the verified payload (base64url) to the payload. */
  forwardPayloadHeader: z.optional(headerName),
  /** How long fetched keys are kept (default in defaults.ts). */
  cacheDurationSeconds: z.optional(intBetween(1, 86_400)),
  /**
   * Lets `jwksUri` name an identity provider inside the network (a private host name, another
   * port, credentials): off by default, because a JWKS from the wrong place makes any token valid.
   */
  allowPrivateJwksUri: z.optional(z.boolean()),
}).check(
  z.superRefine((jwt, ctx) => {
    if (jwt.allowPrivateJwksUri) return;
    const problem = nonPublicJwksUriProblem(jwt.jwksUri);
    if (problem) ctx.addIssue({ code: 'custom', path: ['jwksUri'], message: `${problem}; set allowPrivateJwksUri to allow it` });
  }),
);

const serviceSpecObject = z.strictObject({
  name: serviceName,
  /** Where this service's Envoy accepts mesh traffic: the port other services' endpoints point at. */
  inboundPort: port,
  /** Where the payload listens on localhost. */
  appPort: port,
  protocol: z.enum(protocols),
  dependencies: z._default(z.array(dependencySchema).check(z.maxLength(500)), []),
  /** How this service is found in ECS. An ECS service maps to the mesh service of the same name unless set. */
  ecs: z.optional(
    z.strictObject({
      /** The ECS service name (the task's `group` is `service:<serviceName>`). */
      serviceName: z.optional(z.string().check(z.minLength(1), z.maxLength(255), z.regex(/^[A-Za-z0-9_-]+$/, 'must be an ECS service name'))),
      /** The ECS cluster (name or ARN) the service runs in: the reconciler lists its tasks there. */
      cluster: z.optional(z.string().check(z.minLength(1), z.maxLength(2048))),
    }),
  ),
  /**
   * How long a leaving VM drains before the Auto Scaling terminate hook is completed. At most
   * 900 s: the completion is scheduled as a delayed SQS message, whose delay caps there.
   */
  drainSeconds: z.optional(intBetween(0, 900)),
  /** JSON access log on stdout; on unless disabled. */
  accessLog: z.optional(z.strictObject({ enabled: z.optional(z.boolean()) })),
  /** Stat prefix of the inbound listener (default "inbound"). */
  statsPrefix: z.optional(
    z.string().check(z.minLength(1), z.maxLength(64), z.regex(/^[a-zA-Z0-9_]+$/, 'must be letters, digits or "_" (it becomes part of stat names)')),
  ),
  requestId: z.optional(z.strictObject({ generate: z.optional(z.boolean()), preserveExternal: z.optional(z.boolean()) })),
  /**
   * The inbound side: the route to the payload (its timeout, 0: none, and idle timeout), who
   * may call this service, and an optional JWT check on every request.
   */
  inbound: z.optional(
    z.strictObject({
      timeoutMs: z.optional(millis),
      idleTimeoutMs: z.optional(millis),
      /**
       * The services allowed to call this one, matched on their certificate's SPIFFE ID, or
       * ["*"] for any mesh service. Absent: exactly the services that declare this one as a
       * dependency. Needs mTLS, which proves who the caller is.
       */
      allowedCallers: z.optional(z.array(z.union([z.literal('*'), serviceName])).check(z.maxLength(500))),
      jwt: z.optional(jwtSchema),
      /**
       * A second listener for traffic from outside the mesh (typically a load balancer's health
       * checks and requests): plaintext, no client certificate, no caller allow-list (a JWT check,
       * when declared, still applies). Restrict who reaches the port with security groups.
       * Absent: only mesh callers reach the service.
       */
      external: z.optional(z.strictObject({ port })),
    }),
  ),
  /** A progressive rollout of every caller's traffic to this service, from one subset to another (spec-rollout.ts). */
  rollout: z.optional(rolloutSchema),
  /** Mutual TLS with the mesh CA's certificates on the inbound listener and towards this service; on unless disabled. */
  mtls: z.optional(mtlsSchema),
  /**
   * Who may fetch this service's configuration and certificate: the IAM roles of its instances
   * and tasks. A poll signed by another role is refused (403). ARNs of roles, compared by
   * partition, account and role name (an assumed-role session drops the role's path). A role
   * removed here has the service's key re-issued at once (declareService).
   */
  identity: z.optional(
    z.strictObject({
      iamRoleArns: z.optional(
        z.array(z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/, 'must be an IAM role ARN'))).check(z.maxLength(20)),
      ),
    }),
  ),
  /** Metrics to CloudWatch and request tracing (spec-observability.ts); the mesh-wide default fills the gaps. */
  observability: z.optional(observabilitySchema),
  /** How the payload reaches its dependencies: at 127.0.0.1 (default) or by name, intercepted (spec-interception.ts). */
  interception: z.optional(interceptionSchema),
  /** A local rate limit on the requests this service's sidecar accepts: 429 beyond it (spec-traffic.ts). */
  rateLimit: z.optional(rateLimitSchema),
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

/**
 * serviceSpecSchema parses a spec; a gateway or external service may leave out the core fields
 * it does not use (withEdgeKindPorts fills them first). What zod's preprocess did, without
 * bundling zod's pipe and transform schemas into every function that validates a spec.
 */
export const serviceSpecSchema = {
  safeParse: (input: unknown): ReturnType<typeof serviceSpecObject.safeParse> => serviceSpecObject.safeParse(withEdgeKindPorts(input)),
};

export type ServiceSpecInput = z.input<typeof serviceSpecObject>;
export type ServiceSpec = z.output<typeof serviceSpecObject>;
export type Dependency = ServiceSpec['dependencies'][number];

export { ecsServiceNameOf, mtlsEnabledOf } from './service-terms';

/** toProblems turns zod issues into path-located problems. */
export function toProblems(error: z.core.$ZodError): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

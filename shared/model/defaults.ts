/**
 * Every default of the service spec, in one place. A spec field left out takes the value
 * here; rendering reads these and nothing else, so docs/rendering.md can list them and an
 * operator can tell what a sidecar does from the spec alone. Durations are milliseconds.
 */

/** defaults for what a caller does on its way to one dependency (`dependencies[]`). */
export const dependencyDefaults = {
  /** Envoy's own connect timeout default is 5 s; inside a VPC a healthy host answers well under 1 s. */
  connectTimeoutMs: 1_000,
  /** Route timeout for the whole call, retries included. Envoy's default; 0 disables it (streams). */
  timeoutMs: 15_000,
  /**
   * How long a request or TCP connection may sit without activity. HTTP: the route's
   * idle_timeout (Envoy's HCM stream idle default, 5 min). TCP: tcp_proxy idle_timeout (Envoy's, 1 h).
   */
  idleTimeoutMs: { http: 300_000, tcp: 3_600_000 },
  retries: {
    /**
     * Retry what never reached the payload: a failed connect, a refused HTTP/2 stream, a reset
     * before the request went out (Envoy 1.27+). Safe for any method. `reset`, `5xx` or
     * `gateway-error` must be asked for, because they can run a non-idempotent call twice.
     */
    retryOn: {
      http: ['connect-failure', 'refused-stream', 'reset-before-request'],
      /** gRPC: also `unavailable` and `cancelled`, which gRPC defines as safe to retry. */
      grpc: ['connect-failure', 'refused-stream', 'reset-before-request', 'unavailable', 'cancelled'],
    },
    numRetries: 2,
    /** 0 leaves each try bounded only by the route timeout. */
    perTryTimeoutMs: 0,
    /** Envoy's defaults: 25 ms base; unless set, the maximum is 10 × the base. */
    backOff: { baseIntervalMs: 25, maxIntervalFactor: 10 },
    /** Retry on another host than the one that just failed (previous_hosts predicate), up to this many picks. */
    hostSelectionRetryMaxAttempts: 3,
  },
  /** Envoy's own thresholds, written out so dashboards (remaining_*) and reviews can see them. */
  circuitBreakers: { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 },
  /**
   * Passive health: eject a host after 5 straight 5xx or 5 straight gateway errors (502, 503,
   * 504, connect failures), check every 10 s, eject for 30 s × times ejected, never more than
   * half the hosts (Envoy's 10 % would never eject one of 3 hosts).
   */
  outlierDetection: {
    enabled: true,
    consecutive5xx: 5,
    consecutiveGatewayErrors: 5,
    intervalMs: 10_000,
    baseEjectionTimeMs: 30_000,
    maxEjectionPercent: 50,
  },
  /** Active health checking is off unless declared; when declared, these fill the gaps. */
  healthCheck: { path: '/healthz', intervalMs: 10_000, timeoutMs: 2_000, unhealthyThreshold: 3, healthyThreshold: 2 },
  /** Weights of a traffic split add up to this unless the split says otherwise. */
  splitTotal: 100,
  /**
   * Zone-aware routing is off unless asked for: it needs the bootstrap's local cluster. With it
   * on, Envoy keeps traffic in the caller's AZ while the AZ has enough capacity.
   */
  zoneAware: { enabled: false, minClusterSize: 6, routingEnabledPercent: 100 },
} as const;

/** defaults for the service's own sidecar (the inbound side and the whole node). */
export const serviceDefaults = {
  /** Access log: one JSON line per request (or TCP connection) on stdout, for CloudWatch/FireLens. */
  accessLog: { enabled: true },
  /** The inbound listener's stat prefix; outbound listeners use `outbound_<dependency>`. */
  statsPrefix: 'inbound',
  requestId: {
    /** Give every request an x-request-id (UUID) if it has none. */
    generate: true,
    /** Inbound: replace an id from outside the mesh; outbound calls always keep the payload's id. */
    preserveExternal: false,
  },
  inbound: {
    /** 0: the caller's sidecar enforces the deadline; the inbound side does not add a second one. */
    timeoutMs: 0,
    idleTimeoutMs: { http: 300_000, tcp: 3_600_000 },
    /**
     * Without `allowedCallers`, only the services that declare this one as a dependency may
     * call it: the dependency graph is the allow-list, so a new service is closed by default.
     */
    allowedCallers: 'dependents',
  },
  /** Mutual TLS on by default: every service proves its identity and checks its peer's. */
  mtls: { enabled: true },
  jwt: {
    /** How long fetched signing keys are kept: Envoy's own default (5 min). */
    cacheDurationSeconds: 300,
    /** How long one JWKS fetch may take. */
    jwksFetchTimeoutMs: 5_000,
    /** Connect timeout of the cluster that reaches the JWKS host. */
    jwksConnectTimeoutMs: 2_000,
    /** The JWKS host is verified against the system CA bundle, the same file the bootstrap's xDS cluster uses. */
    systemCaBundlePath: '/etc/ssl/certs/ca-certificates.crt',
  },
} as const;

/** Endpoint label that carries an endpoint's load-balancing weight (1-128); absent or invalid means 1. */
export const endpointWeightLabel = 'weight';
export const maxEndpointWeight = 128;

/** How long a leaving VM drains (Auto Scaling terminate hook) when its spec sets no `drainSeconds`. */
export const defaultDrainSeconds = 30;

/**
 * observabilityDefaults fill the gaps of a service's `observability` and the mesh-wide default
 * (RenderSettings.observability). Metrics and tracing are off unless declared: both need an
 * agent beside Envoy (the sidecar helpers add it), and metrics cost per CloudWatch metric.
 */
export const observabilityDefaults = {
  metrics: {
    enabled: false,
    /** The CloudWatch agent's StatsD listener (its default port), UDP on 127.0.0.1. */
    statsdPort: 8125,
  },
  tracing: {
    /** 5 % of requests that arrive without a sampling decision start a trace (X-Ray's own default rate is 5 % too). */
    samplingPercent: 5,
    /** The X-Ray daemon's UDP port, and the OTLP gRPC port of an OpenTelemetry collector. */
    collectorPort: { xray: 2000, opentelemetry: 4317 },
  },
} as const;

/** defaults for `interception` (spec-interception.ts), after App Mesh's proxy configuration. */
export const interceptionDefaults = {
  mode: 'localhost',
  /** App Mesh's ProxyEgressPort; the ingress side is the service's own inboundPort. */
  egressPort: 15001,
  /**
   * Never redirected: the instance metadata service (IMDS) and the ECS task metadata and
   * credentials endpoint, which App Mesh's script and the ECS agent exclude too. The node's
   * role credentials come from there.
   */
  egressIgnoredIps: ['169.254.169.254', '169.254.170.2'],
  unknownDestinations: 'passthrough',
  /** The domain under which every service has a name, `<service>.<domain>` (RenderSettings.serviceDomain). */
  serviceDomain: 'mesh.internal',
  /**
   * What every service name resolves to (infra/mesh-dns.ts). A transparent caller's Envoy routes
   * by Host and destination port, never by this address, so one address serves every name; it
   * only has to leave the host by its default route. From 240.0.0.0/4, reserved and never
   * assigned, as Istio's and Kuma's DNS proxies choose: a caller outside the mesh reaches nothing.
   */
  serviceAddress: '240.240.0.1',
  /**
   * The UID Envoy runs as in the official image (its entrypoint drops to the `envoy` user):
   * its own traffic is never redirected.
   */
  envoyUid: 101,
} as const;

/** defaults of the mesh's edges (spec-edges.ts): gateways, external services. */
export const edgeDefaults = {
  /** A spec without `kind` is a mesh service with a payload and a sidecar. */
  kind: 'service',
  /** An external service is reached over TCP unless its spec says how it speaks (http lets dependents retry and time out per request). */
  externalProtocol: 'tcp',
  /** What a gateway's own `protocol` says when left out: it is not used (each listener has its protocol). */
  gatewayProtocol: 'http',
  /** Connect timeout of the DNS cluster that reaches an external service (a host across the internet, not in the VPC). */
  externalConnectTimeoutMs: 5_000,
  /**
   * The port of a gateway's health listener (render/gateway-health.ts), which its load
   * balancer's health checks ask: Istio's gateways answer health on the same port.
   */
  gatewayHealthPort: 15021,
} as const;

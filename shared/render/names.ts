/** proxylessServerListenerTemplate is the `server_listener_resource_name_template` of every proxyless bootstrap: what names.proxylessServerListener fills in. */
export const proxylessServerListenerTemplate = 'grpc/server?xds.resource.listening_address=%s';

/**
 * Names of rendered resources, from one place. Mesh service names are DNS labels, so any
 * name with '_' or '|' can never clash with a service.
 */
export const names = {
  /** The cluster of the local payload (inbound traffic goes there). */
  localAppCluster: 'local_app',
  /** The cluster (and EDS resource) of a dependency: the service's own name, the same for every caller. */
  serviceCluster: (service: string) => service,
  /**
   * The service's own EDS cluster, which the bootstrap names as `cluster_manager.local_cluster_name`
   * for zone-aware routing. It is the service's cluster name: a service never depends on itself
   * (the spec rejects it), so it cannot collide with a dependency's cluster.
   */
  localServiceCluster: (service: string) => service,
  inboundListener: 'inbound',
  /** The listener for traffic from outside the mesh (a load balancer): `inbound.external`. */
  externalListener: 'external',
  externalStatPrefix: 'external',
  outboundListener: (service: string) => `outbound_${service}`,
  inboundRoute: 'inbound',
  outboundRoute: (service: string) => `outbound_${service}`,
  /** Stat prefixes, so dashboards can tell directions and peers apart. */
  inboundStatPrefix: 'inbound',
  outboundStatPrefix: (service: string) => `outbound_${service}`,
  /** The SDS secret with a service's certificate and key: only that service's nodes are served it. */
  serviceCertificateSecret: (service: string) => `service_certificate_${service}`,
  /** The SDS secret with the mesh CA certificates every service verifies its peers against. */
  trustBundleSecret: 'mesh_trust_bundle',
  /** The cluster a JWT-checking service fetches its issuer's signing keys (JWKS) through. */
  jwksCluster: (service: string) => `jwks_${service}`,
  /** The JWT provider of a service's inbound check (one per service). */
  jwtProvider: (service: string) => `${service}_jwt`,
  /** The RBAC policy that lists who may call a service. */
  allowedCallersPolicy: 'allowed_callers',
  /** The bootstrap's static cluster to the local OpenTelemetry collector (OTLP over gRPC), which tracing names. */
  otelCollectorCluster: 'mesh_otel_collector',
  /** Transparent mode: the listener (and its route configuration and stat prefix) on the egress port. */
  transparentOutbound: 'transparent_outbound',
  /** Transparent mode: where traffic to no mesh service goes on unchanged (an ORIGINAL_DST cluster). */
  passthroughCluster: 'transparent_passthrough',
  /** Transparent mode: a cluster with no hosts, for connections that would loop back into Envoy. */
  blackholeCluster: 'transparent_blackhole',
  /** A gateway's listener on one port, and the route configuration its HTTP listeners share. */
  gatewayListener: (port: number) => `gateway_${port}`,
  gatewayRoute: 'gateway',
  /** A gateway's health listener, which its load balancer's health checks ask (render/gateway-health.ts). */
  gatewayHealthListener: 'gateway_health',
  /** The SDS secret with the operator's certificate a gateway terminates TLS with on one listener. */
  gatewayCertificateSecret: (gateway: string, port: number) => `gateway_certificate_${gateway}_${port}`,
  /**
   * The Listener a proxyless gRPC server listening on `0.0.0.0:<port>` asks for: gRPC names it
   * by its bootstrap's `server_listener_resource_name_template` (proxylessServerListenerTemplate)
   * with the address it binds in place of `%s` (gRFC A36).
   */
  proxylessServerListener: (port: number) => proxylessServerListenerTemplate.replace('%s', `0.0.0.0:${port}`),
  /**
   * The certificate provider instance proxyless TLS contexts name (gRFC A29): the node's
   * bootstrap maps it to the files holding its certificate, key and the mesh trust bundle.
   */
  proxylessCertificateProvider: 'mesh_certificates',
} as const;

/**
 * subsetCluster names the proxyless gRPC cluster (and its EDS resource) of one subset of a
 * dependency: `<service>|<key>=<value>,...`, labels sorted by key, each key and value
 * percent-encoded (so `|`, `,` and `=` only ever separate). gRPC has no subset load balancer,
 * so a split or a header route needs a cluster per subset; the name says exactly which
 * endpoints it holds, and reads back with subsetOfCluster. It cannot clash with a service
 * (DNS labels have no `|`) and is the same for every caller.
 */
export function subsetCluster(service: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((k) => `${encodeURIComponent(k)}=${encodeURIComponent(labels[k]!)}`);
  return `${names.serviceCluster(service)}|${pairs.join(',')}`;
}

/** SubsetOfCluster is what a subset cluster's name says: whose endpoints, and which labels they carry. */
export interface SubsetOfCluster {
  readonly service: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * subsetOfCluster reads a subsetCluster name back; a service's own cluster name (or anything
 * that is not a well-formed subset name) is undefined.
 */
export function subsetOfCluster(name: string): SubsetOfCluster | undefined {
  const bar = name.indexOf('|');
  if (bar <= 0) return undefined;
  const labels: Record<string, string> = {};
  for (const pair of name.slice(bar + 1).split(',')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) return undefined;
    try {
      labels[decodeURIComponent(pair.slice(0, eq))] = decodeURIComponent(pair.slice(eq + 1));
    } catch {
      return undefined; // a malformed escape: not a name we made
    }
  }
  return { service: name.slice(0, bar), labels };
}

/**
 * assignmentSource is the stored ClusterLoadAssignment an EDS resource name is drawn from: a
 * subset cluster's endpoints are its service's, filtered by the subset's labels at selection;
 * any other name is its own.
 */
export function assignmentSource(edsName: string): string {
  return subsetOfCluster(edsName)?.service ?? edsName;
}

/**
 * servedSecretNames are the only SDS secrets the nodes of `service` may be served: its own
 * certificate and the trust bundle (and a gateway's listener certificates: isGatewayCertificateOf).
 * A snapshot that references another secret is inconsistent.
 */
export function servedSecretNames(service: string): readonly string[] {
  return [names.trustBundleSecret, names.serviceCertificateSecret(service)].sort();
}

/** isGatewayCertificateOf tells whether a secret name is one of `service`'s gateway listener certificates (names.gatewayCertificateSecret). */
export function isGatewayCertificateOf(service: string, secret: string): boolean {
  const prefix = names.gatewayCertificateSecret(service, 0).slice(0, -1);
  return secret.startsWith(prefix) && /^[1-9][0-9]{0,4}$/.test(secret.slice(prefix.length));
}

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
} as const;

/**
 * servedSecretNames are the only SDS secrets the nodes of `service` may be served: its own
 * certificate and the trust bundle. A snapshot that references another secret is inconsistent.
 */
export function servedSecretNames(service: string): readonly string[] {
  return [names.trustBundleSecret, names.serviceCertificateSecret(service)].sort();
}

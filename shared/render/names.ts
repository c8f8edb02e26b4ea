/**
 * Names of rendered resources, from one place. Mesh service names are DNS labels, so any
 * name with '_' or '|' can never clash with a service.
 */
export const names = {
  /** The cluster of the local payload (inbound traffic goes there). */
  localAppCluster: 'local_app',
  /** The cluster (and EDS resource) of a dependency: the service's own name, the same for every caller. */
  serviceCluster: (service: string) => service,
  inboundListener: 'inbound',
  outboundListener: (service: string) => `outbound_${service}`,
  inboundRoute: 'inbound',
  outboundRoute: (service: string) => `outbound_${service}`,
  /** Stat prefixes, so dashboards can tell directions and peers apart. */
  inboundStatPrefix: 'inbound',
  outboundStatPrefix: (service: string) => `outbound_${service}`,
} as const;

import { AffinityPolicy, duration } from './policy';

/**
 * Session affinity as consistent hashing: the dependency's cluster balances with a hash ring,
 * and the caller's route (or TCP proxy) says what to hash. Envoy and gRPC clients get the same
 * ring (gRPC implements only RING_HASH, gRFC A42), each with the hash policies it reads.
 */

/** ringHash is the cluster's balancer under affinity: Envoy's default ring sizes and xxHash, which gRPC requires. */
export function ringHashLb(): Record<string, unknown> {
  return { lb_policy: 'RING_HASH', ring_hash_lb_config: { minimum_ring_size: '1024', maximum_ring_size: '8388608', hash_function: 'XX_HASH' } };
}

/**
 * routeHashPolicy is an Envoy route's hash_policy: the header, the cookie (Envoy sets it when a
 * request has none: `ttl` 0s is a session cookie), or the connection's source address (on an
 * outbound listener that is the caller's own instance: each instance keeps to one endpoint).
 */
export function routeHashPolicy(affinity: AffinityPolicy): Record<string, unknown>[] {
  switch (affinity.kind) {
    case 'header':
      return [{ header: { header_name: affinity.header } }];
    case 'cookie':
      return [{ cookie: { name: affinity.name, ttl: duration(affinity.ttlSeconds * 1000), ...(affinity.path ? { path: affinity.path } : {}) } }];
    case 'sourceIp':
      return [{ connection_properties: { source_ip: true } }];
  }
}

/** tcpHashPolicy is a TCP proxy's hash_policy: only the source address is there to hash (validation allows no other). */
export function tcpHashPolicy(affinity: AffinityPolicy | undefined): Record<string, unknown> {
  return affinity?.kind === 'sourceIp' ? { hash_policy: [{ source_ip: {} }] } : {};
}

/**
 * proxylessHashPolicy is what a gRPC client can hash (A42): a header (metadata), or its channel,
 * the client-side equivalent of a source address (every call of one channel to one server).
 * Cookies mean nothing to gRPC: undefined, and the cluster stays round robin.
 */
export function proxylessHashPolicy(affinity: AffinityPolicy | undefined): Record<string, unknown>[] | undefined {
  if (affinity?.kind === 'header') return [{ header: { header_name: affinity.header } }];
  if (affinity?.kind === 'sourceIp') return [{ filter_state: { key: 'io.grpc.channel_id' } }];
  return undefined;
}

/**
 * Placeholders in a bootstrap rendered at synth time, for the facts only the booting host
 * knows (its node id and zone) and those only known at deploy time (the front door's host,
 * the region). The sidecar helpers replace the first kind on the host and the second kind
 * with CloudFormation tokens. They are plain strings Envoy would reject, so a bootstrap that
 * escaped substitution fails loudly rather than polling under a wrong identity.
 */
export const placeholders = {
  nodeId: '__MESH_NODE_ID__',
  zone: '__MESH_ZONE__',
  /** An ECS task's task definition revision (its endpoint's `revision` label), for its stats' tags. */
  revision: '__MESH_REVISION__',
  /** A host name under `.invalid` (RFC 6761): it can never resolve. */
  xdsHost: 'xds-front-door.mesh.invalid',
  /** The push tier's load balancer (its DNS name is known at deploy time), also under `.invalid`. */
  pushTierHost: 'xds-push-tier.mesh.invalid',
  region: '__MESH_REGION__',
} as const;

/** substitute replaces every occurrence of each key with its value (values may be CDK tokens). */
export function substitute(text: string, values: Readonly<Record<string, string>>): string {
  return Object.entries(values).reduce((out, [key, value]) => out.split(key).join(value), text);
}

import type { EndpointChange } from './endpoint';

/**
 * The words of an endpoint that code on the read path needs (the xds function's row checks,
 * the store): kept apart from endpoint.ts, whose zod schema validates endpoints on the way in,
 * so that reading loads no zod. endpoint.ts re-exports them.
 */

export const endpointHealths = ['healthy', 'unhealthy', 'draining'] as const;
export type EndpointHealth = (typeof endpointHealths)[number];

export const endpointSourceKinds = ['ecs-task', 'ec2-instance', 'reconciler', 'manual'] as const;

export function endpointChangeTarget(change: EndpointChange): { service: string; id: string } {
  return change.kind === 'upsert' ? { service: change.endpoint.service, id: change.endpoint.id } : change;
}

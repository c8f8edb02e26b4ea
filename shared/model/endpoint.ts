import * as z from './zod';
import { port, serviceName } from './spec';
import { endpointHealths, endpointSourceKinds } from './endpoint-terms';

/**
 * An endpoint is one running instance of a service, as learnt from a lifecycle event or
 * the reconciler: where to reach its Envoy, in which zone, and whether to send it traffic.
 */

// The words of an endpoint live in endpoint-terms.ts, which loads no zod (the xds function reads rows with them).
export { endpointChangeTarget, endpointHealths, endpointSourceKinds } from './endpoint-terms';
export type { EndpointHealth } from './endpoint-terms';

export const endpointSchema = z.strictObject({
  service: serviceName,
  /** Stable identity of the instance: an ECS task ARN or an EC2 instance id. */
  id: z.string().check(z.minLength(1), z.maxLength(512)),
  address: z.union([z.ipv4(), z.ipv6()]),
  port,
  zone: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  health: z.enum(endpointHealths),
  /** e.g. `revision: "12"`, `family: "orders"`, `capacityProvider: "FARGATE_SPOT"`. */
  labels: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256))), {}),
  /** Where this state came from, to trace it back and to order it against newer state. */
  source: z.strictObject({
    kind: z.enum(endpointSourceKinds),
    /** The EventBridge event id (or reconciler run id). */
    eventId: z.string().check(z.minLength(1)),
    /** ISO time of the source event. */
    eventTime: z.iso.datetime({ offset: true }),
    /**
     * A number that only grows for this instance: ECS's per-task `detail.version`, or the
     * event time in milliseconds for EC2. A change with an ordering key not greater than the
     * stored one is stale and is dropped.
     */
    orderingKey: z.number().check(z.int(), z.nonnegative()),
  }),
});

export type Endpoint = z.output<typeof endpointSchema>;

/**
 * EndpointChange is what the lifecycle pipeline asks the store to apply to one instance:
 * either it is (still) there in some health, or it is gone.
 */
export type EndpointChange =
  | { readonly kind: 'upsert'; readonly endpoint: Endpoint }
  | {
      readonly kind: 'remove';
      readonly service: string;
      readonly id: string;
      readonly source: Endpoint['source'];
    };

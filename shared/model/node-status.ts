import { XdsTypeName } from '../envoy/resources';

/**
 * NodeStatus is what the control plane knows of one polling Envoy: which service it belongs
 * to, what each of its subscriptions last applied, and its last rejection. Envoy polls each
 * subscription on its own (LDS, CDS, one RDS per route name, one EDS per cluster), so status
 * is kept per subscription.
 */
export interface NodeStatus {
  readonly nodeId: string;
  readonly service: string;
  readonly zone?: string;
  readonly firstSeenAt: string;
  readonly lastPollAt: string;
  readonly subscriptions: Readonly<Record<string, SubscriptionStatus>>;
  readonly lastNack?: Nack;
  /** Which forms of its service's resources it is served (their versions differ); absent: the REST forms. */
  readonly forms?: ServedForms;
}

/**
 * ServedForms are the forms a node is served: an Envoy's REST forms, an Envoy's ADS forms
 * (config sources over its stream), its ADS forms whose SDS stays on REST (the push tier in
 * AWS, render/ads-forms.ts), or a proxyless gRPC client's.
 */
export type ServedForms = 'rest' | 'ads' | 'ads-rest-sds' | 'proxyless';

export interface SubscriptionStatus {
  readonly type: XdsTypeName;
  /** The names it asks for (empty for the wildcard LDS and CDS). */
  readonly resourceNames: readonly string[];
  /** The version the node says it has applied: its request's `version_info` ('' before its first update). */
  readonly appliedVersion: string;
  /** When the node first reported `appliedVersion`. */
  readonly appliedAt: string;
  /** When the change that produced `appliedVersion` happened (lifecycle event or spec change), if known. */
  readonly appliedChangedAt?: string;
  /** From that change to the first poll that applied it: the convergence time of this node. */
  readonly convergenceMs?: number;
  /** The version we last answered with. */
  readonly servedVersion: string;
  readonly lastPollAt: string;
}

/**
 * Nack records an update the node rejected. Envoy's REST client never sends `error_detail`:
 * a rejection shows only as the next poll still carrying the version from before the update.
 */
export interface Nack {
  readonly subscription: string;
  readonly type: XdsTypeName;
  readonly rejectedVersion: string;
  /** The version the node kept. */
  readonly keptVersion: string;
  readonly message: string;
  readonly at: string;
}

/** subscriptionKey names one of a node's subscriptions: `clusters`, `routes:inbound`, `endpoints:payments`. */
export function subscriptionKey(type: XdsTypeName, resourceNames: readonly string[]): string {
  return resourceNames.length === 0 ? type : `${type}:${[...resourceNames].sort().join(',')}`;
}

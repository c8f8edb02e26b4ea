import { XdsTypeName } from '../xds/types';

/**
 * NodeStatus is what the control plane knows of one polling Envoy: which service it
 * belongs to, what it last asked for and applied per resource type, and its last rejection.
 */
export interface NodeStatus {
  readonly nodeId: string;
  readonly service: string;
  readonly zone?: string;
  readonly lastPollAt: string;
  readonly types: Partial<Record<XdsTypeName, TypeStatus>>;
  readonly lastNack?: Nack;
}

export interface TypeStatus {
  /** The version the node says it has applied (its request's `version_info`). */
  readonly appliedVersion: string;
  /** The version we last served it. */
  readonly servedVersion?: string;
  readonly lastPollAt: string;
  /** When the node first reported `appliedVersion`: the end of that change's convergence. */
  readonly appliedAt?: string;
}

/** Nack records an update the node rejected (it kept polling with its older version). */
export interface Nack {
  readonly type: XdsTypeName;
  readonly rejectedVersion: string;
  readonly message: string;
  readonly at: string;
}

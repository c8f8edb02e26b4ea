import { Endpoint } from '../model/endpoint';
import { ServiceSpec } from '../model/spec';
import { AssignmentDigest, AssignmentEntry } from './assignment-shards';
import { EnvoyResource, NamedVersionedResources, RetiringResource, SnapshotResources, TypeVersions } from '../envoy/resources';

/** RenderedItemKind names the three rendered items of a service: its snapshot, its assignment (EDS), its secrets. */
export type RenderedItemKind = 'snapshot' | 'eds' | 'secrets';

/** RenderedKey names one rendered item of one service. */
export interface RenderedKey {
  readonly service: string;
  readonly item: RenderedItemKind;
}

/** ServiceRecord is a declared spec with its revision, which guards concurrent edits. */
export interface ServiceRecord {
  readonly spec: ServiceSpec;
  readonly revision: number;
  readonly updatedAt: string;
}

/** nextRevision is the revision a spec gets when it is stored over `previous` (1 for a new one). */
export const nextRevision = (previous: ServiceRecord | undefined): number => (previous?.revision ?? 0) + 1;

/** StoredEndpoint is an endpoint item as stored: live, or a tombstone that outlives it. */
export type StoredEndpoint =
  | { readonly removed: false; readonly service: string; readonly id: string; readonly orderingKey: number; readonly endpoint: Endpoint }
  | {
      readonly removed: true;
      readonly service: string;
      readonly id: string;
      readonly orderingKey: number;
      readonly source: Endpoint['source'];
    };

/** EndpointAssignmentItem is a service's rendered ClusterLoadAssignment, stored once for every caller. */
export interface EndpointAssignmentItem {
  readonly resource: EnvoyResource;
  readonly version: string;
  /** The endpoint revision it was rendered from. */
  readonly revision: number;
  readonly renderedAt: string;
  /** When the newest change it reflects happened (the lifecycle event's time), for convergence. */
  readonly changedAt?: string;
}

/**
 * AssignmentHead is a service's `EDS` item: the count of endpoint changes (`revision`), and,
 * once rendered in shards, the generation and number of its shards, the digest of what they
 * hold and how many live endpoints were left out. A head without `layout` is a counter only,
 * or an assignment stored whole before shards (`legacy`): both are rendered in full next time.
 */
export interface AssignmentHead {
  readonly revision: number;
  readonly layout?: {
    readonly generation: number;
    readonly shards: number;
    readonly digest: AssignmentDigest;
    readonly overLimit: number;
  };
  readonly legacy: boolean;
  readonly renderedAt?: string;
  readonly changedAt?: string;
}

/** AssignmentShardItem is one stored shard: its entries, the digest of them, and a stamp that each write moves on (the compare-and-set token). */
export interface AssignmentShardItem {
  readonly generation: number;
  readonly index: number;
  readonly entries: readonly AssignmentEntry[];
  readonly digest: AssignmentDigest;
  readonly stamp: number;
}

/** EndpointState is a service's endpoints, tombstones included, with its stored assignment (head and every shard), read together. */
export interface EndpointState {
  readonly endpoints: readonly StoredEndpoint[];
  readonly head?: AssignmentHead;
  readonly shards: readonly AssignmentShardItem[];
}

/** SnapshotItem is what the nodes of one service get for LDS, RDS, CDS (and SDS). */
export interface SnapshotItem {
  readonly resources: SnapshotResources;
  /** A content hash per type, so a wildcard poll can answer 304 without hashing. */
  readonly versions: TypeVersions;
  readonly specRevision: number;
  readonly renderedAt: string;
  /** When the change it reflects happened (the spec write), for convergence. */
  readonly changedAt?: string;
  /** Who may fetch it (spec.identity): checked on every poll, so it travels with the snapshot. */
  readonly identity?: { readonly iamRoleArns: readonly string[] };
  /**
   * Clusters recent renders dropped (render/snapshot.ts `retiringClusters`), with their bodies:
   * served with the current ones until a node no longer routes to them. Absent when none.
   */
  readonly retiringClusters?: readonly RetiringResource[];
  /**
   * What the service's proxyless gRPC clients get instead (render/proxyless.ts): API listeners
   * named as dial targets and clusters over ADS. Absent from snapshots stored before it existed.
   */
  readonly proxyless?: {
    readonly resources: SnapshotResources;
    readonly versions: TypeVersions;
    readonly retiringClusters?: readonly RetiringResource[];
  };
}

/**
 * ServiceSecretsItem is a service's issued certificate as stored: the certificate and the
 * trust bundle in clear (they are public), the private key sealed (see shared/secrets/sealer.ts).
 */
export interface ServiceSecretsItem {
  readonly certificatePem: string;
  readonly sealedPrivateKey: Uint8Array;
  readonly trustBundlePem: string;
  readonly notBefore: string;
  readonly notAfter: string;
  readonly serial: string;
  /**
   * The IAM roles bound to the service when the key was issued: any of them may hold the key.
   * When one is no longer bound, the key is replaced (at the declare that revoked it, or at the
   * next renewal if that failed). Absent on items issued before it was recorded.
   */
  readonly issuedForRoles?: readonly string[];
  /**
   * Its SDS secrets, rendered and versioned when it was issued (see render/secret.ts
   * `renderServiceSecrets`): the private key is left out of them and put back, once opened,
   * per request. Absent on an item issued before secrets were stored rendered: it is re-issued.
   */
  readonly rendered?: NamedVersionedResources;
  /**
   * A gateway's listener certificates (the operator's, copied from Secrets Manager), one slot
   * per TLS listener port, sorted by port: kept in the same item so an SDS poll is one read.
   * Issuing the service's own certificate never touches them (putServiceSecrets writes only
   * its own fields).
   */
  readonly gatewayCertificates?: readonly GatewayCertificateItem[];
}

/**
 * GatewayCertificateItem is one gateway listener's certificate as stored: the chain in clear,
 * the key sealed (sealer.ts gatewayKeyContext), where it was copied from (the secret's ARN and
 * version id, compared at each renewal run to notice a rotation) and the version of the SDS
 * secret it renders to (its whole content, key included, hashed when it was copied).
 */
export interface GatewayCertificateItem {
  readonly port: number;
  readonly sourceArn: string;
  readonly sourceVersion: string;
  readonly certificatePem: string;
  readonly sealedPrivateKey: Uint8Array;
  readonly fingerprint: string;
  readonly notAfter: string;
  readonly copiedAt: string;
  readonly version: string;
}

import { RolloutRepository } from './rollouts';
import { Endpoint, EndpointChange } from '../model/endpoint';
import { NodeStatus } from '../model/node-status';
import { ServiceSpec } from '../model/spec';
import { EndpointView } from '../render/endpoint';
import { EndpointAssignmentItem, EndpointState, GatewayCertificateItem, RenderedKey, ServiceRecord, ServiceSecretsItem, SnapshotItem, StoredEndpoint } from './records';

/**
 * The control plane's state, as one small repository per aggregate. The core depends on these
 * interfaces; `dynamo/` implements each over the one table (docs/table-layout.md), and
 * MeshStore bundles the five for the entry points that wire them.
 */

/** CatalogRepository holds the declared specs and their indexes (ECS aliases, dependents). */
export interface CatalogRepository {
  getService(name: string): Promise<ServiceRecord | undefined>;
  /** getServices reads several specs at once, consistently (missing names are simply absent from the map). */
  getServices(names: readonly string[]): Promise<Map<string, ServiceRecord>>;
  listServices(): Promise<ServiceRecord[]>;
  /** putService stores a spec, conditionally on `previous` being what is stored; else ConflictError. */
  putService(spec: ServiceSpec, previous: ServiceRecord | undefined): Promise<ServiceRecord>;
  /** deleteService removes a spec (ConflictError if it changed) and everything kept for it. */
  deleteService(record: ServiceRecord): Promise<void>;
  /** serviceForEcsService maps an ECS service name to the mesh service declared for it, if any. */
  serviceForEcsService(ecsService: string): Promise<string | undefined>;
  /** listDependents names the services that declared `service` as a dependency, sorted. */
  listDependents(service: string): Promise<string[]>;
}

/** EndpointRepository holds each service's endpoints and tombstones, ordered by their ordering keys. */
export interface EndpointRepository {
  /** applyEndpointChange writes a change unless the stored state is as new or newer ('stale'). */
  applyEndpointChange(change: EndpointChange): Promise<'applied' | 'stale'>;
  /** replaceLiveEndpoint writes a change over a live endpoint only if it is still as the caller read it. */
  replaceLiveEndpoint(
    change: EndpointChange,
    expected: { readonly orderingKey: number; readonly health: string },
  ): Promise<'applied' | 'stale'>;
  getEndpoint(service: string, id: string): Promise<StoredEndpoint | undefined>;
  /** listEndpoints reads every endpoint of a service, tombstones included, consistently. */
  listEndpoints(service: string): Promise<StoredEndpoint[]>;
  /** readEndpointState reads a service's endpoints and its stored assignment (head, shards) in one consistent Query. */
  readEndpointState(service: string): Promise<EndpointState>;
}

/** AssignmentFold says what folding one endpoint's stored state into its service's assignment did. */
export type AssignmentFold =
  | { readonly kind: 'updated'; readonly version: string }
  | { readonly kind: 'unchanged' }
  /** The fold could not apply (no layout yet, a full or missing shard, a cut assignment, too large now): render in full. */
  | { readonly kind: 'needs-render'; readonly reason: string };

/** AssignmentSelection is which live endpoints an assignment serves, and how many it leaves out (too large). */
export interface AssignmentSelection {
  readonly kept: readonly EndpointView[];
  readonly overLimit: number;
}

/**
 * AssignmentRepository keeps each service's rendered assignment, in shards of one write unit
 * (store/assignment-shards.ts), up to date: one endpoint at a time (`foldEndpoint`, units flat
 * in the size of the service) or in full (`renderAssignment`, a new generation of shards).
 * Every write that changes what is served appends a change record.
 */
export interface AssignmentRepository {
  /**
   * foldEndpoint re-reads one endpoint's stored state and writes it into the one shard it
   * lives in, compare-and-set on that shard and fenced by the head's generation; its
   * difference is added to the head's digest.
   */
  foldEndpoint(service: string, id: string, options: { readonly maxBytes: number }): Promise<AssignmentFold>;
  /**
   * renderAssignment renders the whole assignment from every endpoint as a new generation of
   * shards, switches the head to it, then folds in what changed while it rendered.
   */
  renderAssignment(service: string, select: (live: readonly Endpoint[]) => AssignmentSelection): Promise<{ written: boolean; overLimit: number }>;
  /** deleteAssignmentShards removes shards no head points to (left by a render that stopped half-way). */
  deleteAssignmentShards(service: string, shards: readonly { readonly generation: number; readonly index: number }[]): Promise<void>;
}

/** Rendered is what one poll reads in one request: a snapshot, the named assignments, a service's secrets. */
export interface RenderedItems {
  readonly snapshot?: SnapshotItem;
  readonly assignments: Map<string, EndpointAssignmentItem>;
  readonly secrets?: ServiceSecretsItem;
}

/** RenderedMany is what getRenderedMany read, by service (absent items are simply not in the maps). */
export interface RenderedMany {
  readonly snapshots: Map<string, SnapshotItem>;
  readonly assignments: Map<string, EndpointAssignmentItem>;
  readonly secrets: Map<string, ServiceSecretsItem>;
}

/** RenderedRepository holds what polls are served: the snapshots and the rendered assignments. */
export interface RenderedRepository {
  getEndpointAssignments(services: readonly string[]): Promise<Map<string, EndpointAssignmentItem>>;
  /**
   * putSnapshot stores a snapshot unless the stored one was built from a newer revision of
   * the service's spec (false then): a slower render of an older spec never overwrites it.
   */
  putSnapshot(service: string, snapshot: SnapshotItem): Promise<boolean>;
  getSnapshot(service: string): Promise<SnapshotItem | undefined>;
  /** getRendered reads, in one request, what a poll needs (an EDS or SDS poll is one read, not two). */
  getRendered(
    snapshotOf: string | undefined,
    assignmentsOf: readonly string[],
    secretsOf?: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<RenderedItems>;
  /**
   * getRenderedMany reads any rendered items of any services, 100 per request: the push tier
   * refreshes what a tick of the change log named, and sweeps, with it.
   */
  getRenderedMany(keys: readonly RenderedKey[], options?: { readonly signal?: AbortSignal; readonly consistent?: boolean }): Promise<RenderedMany>;
}

/** CertificateRepository holds the mesh CA certificate, the sealed data key and each service's certificate. */
export interface CertificateRepository {
  putServiceSecrets(service: string, secrets: ServiceSecretsItem): Promise<void>;
  getServiceSecrets(service: string): Promise<ServiceSecretsItem | undefined>;
  /**
   * putGatewayCertificate stores one gateway listener's certificate in the gateway's secrets
   * item (which must exist: its own certificate is issued first), replacing the one of that
   * port; removing drops the slots of the ports given. Both are recorded in the change log.
   */
  putGatewayCertificate(gateway: string, certificate: GatewayCertificateItem): Promise<void>;
  removeGatewayCertificates(gateway: string, ports: readonly number[]): Promise<void>;
  getCertificateAuthority(): Promise<string | undefined>;
  /**
   * putCertificateAuthority stores the CA certificate (only if none, unless `replace`); it
   * returns the one stored. A replaced CA is kept as retired: still trusted, no longer signing.
   */
  putCertificateAuthority(certificatePem: string, replace: boolean): Promise<string>;
  /** getRetiredCertificateAuthority is the CA the last rotation replaced, while it is still trusted. */
  getRetiredCertificateAuthority(): Promise<string | undefined>;
  /** forgetRetiredCertificateAuthority stops trusting the replaced CA (every certificate is of the new one). */
  forgetRetiredCertificateAuthority(): Promise<void>;
  getSealedDataKey(): Promise<Uint8Array | undefined>;
  /** putSealedDataKey stores the encrypted data key once; a racing cold start gets the first one back. */
  putSealedDataKey(ciphertext: Uint8Array): Promise<Uint8Array>;
}

/** NodeStatusRepository holds what each polling Envoy applied, expiring when it stops polling. */
export interface NodeStatusRepository {
  putNodeStatus(status: NodeStatus): Promise<void>;
  getNodeStatus(service: string, nodeId: string): Promise<NodeStatus | undefined>;
  /** listNodeStatus lists the live nodes of a service. */
  listNodeStatus(service: string): Promise<NodeStatus[]>;
}

/** Repositories are all of the state: what the entry points wire and pass on, each part to what needs it. */
export type Repositories = CatalogRepository &
  EndpointRepository &
  AssignmentRepository &
  RenderedRepository &
  CertificateRepository &
  NodeStatusRepository &
  RolloutRepository;

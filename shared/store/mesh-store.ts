import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { defaults } from '../config';
import { Endpoint, EndpointChange } from '../model/endpoint';
import { NodeStatus } from '../model/node-status';
import { ServiceSpec } from '../model/spec';
import { GatewayCertificateItem, RenderedKey, ServiceRecord, ServiceSecretsItem, SnapshotItem } from './records';
import {
  AssignmentRepository,
  AssignmentSelection,
  CatalogRepository,
  CertificateRepository,
  EndpointRepository,
  NodeStatusRepository,
  RenderedRepository,
  Repositories,
} from './repositories';
import { StateTable } from './dynamo/table';
import { DynamoCatalog } from './dynamo/catalog';
import { DynamoEndpoints } from './dynamo/endpoints';
import { DynamoRendered } from './dynamo/rendered';
import { DynamoAssignments } from './dynamo/assignments';
import { DynamoCertificates } from './dynamo/certificates';
import { DynamoNodeStatus } from './dynamo/node-status';
import { DynamoChangeLog } from './dynamo/change-log';
import { DynamoRollouts } from './dynamo/rollouts';
import { DeclaredRollout, RolloutRepository } from './rollouts';
import { RebuildRepository, RebuildState } from './rebuilds';
import { DynamoRebuilds } from './dynamo/rebuilds';
import { RolloutState } from '../model/rollout-state';
import { ChangeLogReader, ChangeLogSettings, changeLogDefaults } from './change-log';

export interface MeshStoreOptions {
  /** How long a removed endpoint's tombstone keeps late events from resurrecting it. */
  readonly tombstoneTtlSeconds?: number;
  /** How long a node that stopped polling stays listed. */
  readonly nodeStatusTtlSeconds?: number;
  readonly now?: () => Date;
  /** The change log's shards, TTL and write-latency bound (change-log.ts); writers and readers must agree on `shards`. */
  readonly changeLog?: Partial<Pick<ChangeLogSettings, 'shards' | 'ttlSeconds' | 'maxWriteLatencyMs'>>;
}

/**
 * MeshStore is the DynamoDB repositories and the change log over one table (layout in `layout.ts`), wired
 * once: the entry points build it and hand it on, and every function of the core asks only for
 * the repositories it uses (see repositories.ts). It adds no behaviour of its own.
 */
export class MeshStore implements Repositories, RolloutRepository, RebuildRepository {
  readonly catalog: CatalogRepository;
  readonly endpoints: EndpointRepository;
  readonly assignments: AssignmentRepository;
  readonly rendered: RenderedRepository;
  readonly certificates: CertificateRepository;
  readonly nodes: NodeStatusRepository;
  readonly rollouts: RolloutRepository;
  /** rebuilds keeps where the fleet rebuild stands (shared/reconcile/rebuild-driver.ts). */
  readonly rebuilds: RebuildRepository;
  /** changes reads the change log the rendered writes append to (the push tier follows it). */
  readonly changes: ChangeLogReader;

  constructor(
    doc: DynamoDBDocumentClient,
    readonly tableName: string,
    options: MeshStoreOptions = {},
  ) {
    const table = new StateTable(doc, tableName);
    const now = options.now ?? (() => new Date());
    const changes = new DynamoChangeLog(table, { ...changeLogDefaults, ...options.changeLog }, () => now().getTime());
    this.changes = changes;
    this.catalog = new DynamoCatalog(table, now, changes);
    const assignments = new DynamoAssignments(table, changes, now);
    this.assignments = assignments;
    this.endpoints = new DynamoEndpoints(table, { tombstoneTtlSeconds: options.tombstoneTtlSeconds ?? defaults.tombstoneTtlSeconds, now }, assignments);
    this.rendered = new DynamoRendered(table, changes, assignments);
    this.certificates = new DynamoCertificates(table, changes);
    this.rollouts = new DynamoRollouts(table);
    this.rebuilds = new DynamoRebuilds(table);
    this.nodes = new DynamoNodeStatus(table, { nodeStatusTtlSeconds: options.nodeStatusTtlSeconds ?? defaults.nodeStatusTtlSeconds, now });
  }

  // catalog
  getService = (name: string) => this.catalog.getService(name);
  getServices = (names: readonly string[]) => this.catalog.getServices(names);
  listServices = () => this.catalog.listServices();
  putService = (spec: ServiceSpec, previous: ServiceRecord | undefined) => this.catalog.putService(spec, previous);
  deleteService = (record: ServiceRecord) => this.catalog.deleteService(record);
  serviceForEcsService = (ecsService: string) => this.catalog.serviceForEcsService(ecsService);
  listDependents = (service: string) => this.catalog.listDependents(service);
  // endpoints
  applyEndpointChange = (change: EndpointChange) => this.endpoints.applyEndpointChange(change);
  replaceLiveEndpoint = (change: EndpointChange, expected: { readonly orderingKey: number; readonly health: string }) =>
    this.endpoints.replaceLiveEndpoint(change, expected);
  getEndpoint = (service: string, id: string) => this.endpoints.getEndpoint(service, id);
  listEndpoints = (service: string) => this.endpoints.listEndpoints(service);
  readEndpointState = (service: string) => this.endpoints.readEndpointState(service);
  // assignments
  foldEndpoint = (service: string, id: string, options: { readonly maxBytes: number }) => this.assignments.foldEndpoint(service, id, options);
  renderAssignment = (service: string, select: (live: readonly Endpoint[]) => AssignmentSelection) => this.assignments.renderAssignment(service, select);
  deleteAssignmentShards = (service: string, shards: readonly { readonly generation: number; readonly index: number }[]) =>
    this.assignments.deleteAssignmentShards(service, shards);
  // rendered
  getEndpointAssignments = (services: readonly string[]) => this.rendered.getEndpointAssignments(services);
  putSnapshot = (service: string, snapshot: SnapshotItem) => this.rendered.putSnapshot(service, snapshot);
  getSnapshot = (service: string) => this.rendered.getSnapshot(service);
  getRendered = (snapshotOf: string | undefined, assignmentsOf: readonly string[], secretsOf?: string, options?: { readonly signal?: AbortSignal }) =>
    this.rendered.getRendered(snapshotOf, assignmentsOf, secretsOf, options);
  getRenderedMany = (keyList: readonly RenderedKey[], options?: { readonly signal?: AbortSignal; readonly consistent?: boolean }) =>
    this.rendered.getRenderedMany(keyList, options);
  // certificates
  putServiceSecrets = (service: string, secrets: ServiceSecretsItem) => this.certificates.putServiceSecrets(service, secrets);
  getServiceSecrets = (service: string) => this.certificates.getServiceSecrets(service);
  putGatewayCertificate = (gateway: string, certificate: GatewayCertificateItem) => this.certificates.putGatewayCertificate(gateway, certificate);
  removeGatewayCertificates = (gateway: string, ports: readonly number[]) => this.certificates.removeGatewayCertificates(gateway, ports);
  getCertificateAuthority = () => this.certificates.getCertificateAuthority();
  putCertificateAuthority = (certificatePem: string, replace: boolean) => this.certificates.putCertificateAuthority(certificatePem, replace);
  getRetiredCertificateAuthority = () => this.certificates.getRetiredCertificateAuthority();
  forgetRetiredCertificateAuthority = () => this.certificates.forgetRetiredCertificateAuthority();
  getSealedDataKey = () => this.certificates.getSealedDataKey();
  putSealedDataKey = (ciphertext: Uint8Array) => this.certificates.putSealedDataKey(ciphertext);
  // rollouts
  registerRollouts = (declared: readonly DeclaredRollout[], now: Date) => this.rollouts.registerRollouts(declared, now);
  listRollouts = () => this.rollouts.listRollouts();
  putRollout = (state: RolloutState, revision: number) => this.rollouts.putRollout(state, revision);
  // rebuild
  getRebuild = () => this.rebuilds.getRebuild();
  putRebuild = (state: RebuildState, revision: number) => this.rebuilds.putRebuild(state, revision);
  // node status
  putNodeStatus = (status: NodeStatus) => this.nodes.putNodeStatus(status);
  getNodeStatus = (service: string, nodeId: string) => this.nodes.getNodeStatus(service, nodeId);
  listNodeStatus = (service: string) => this.nodes.listNodeStatus(service);
}

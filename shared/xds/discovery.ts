import { randomBytes } from 'node:crypto';
import { StoreUnavailableError } from '../errors';
import { EnvoyResource, RetiringResource, XdsTypeName, typeUrls } from '../envoy/resources';
import { defaults } from '../config';
import { SnapshotItem } from '../store/records';
import { Nack, ServedForms } from '../model/node-status';
import { SnapshotCache } from './snapshot-cache';
import { NodeTracker } from './node-tracker';
import { DiscoveryNode, XdsRequest } from './request';
import { Selection, checkSecretsRequest, selectAssignments, selectFromSnapshot, selectProxylessAssignments, selectSecrets } from './selection';
import { AuthMode, Principal, authorizeNode } from './authorization';
import { XdsRefusal } from './refusal';
import { adsFormsOf, adsSnapshotOf, isAdsForms, isAdsNode } from './ads-node';
import { SecretSealer } from '../secrets/sealer';
import { clustersForNode, hasLeftRetiringClusters, liveRetiringClusters, selectTransitionalClusters } from './retiring';
import { SelectionMemo, selectionKey } from './selection-memo';

export interface DiscoveryDeps {
  readonly cache: SnapshotCache;
  /** Follows nodes for status, convergence and NACKs; without it polls are answered untracked. */
  readonly tracker?: NodeTracker;
  /** How callers are authenticated: IAM in AWS, tokens or nothing locally. */
  readonly authMode?: AuthMode;
  /** Opens the sealed private keys SDS serves; without it SDS is off; 'unavailable' when it could not be loaded. */
  readonly sealer?: SecretSealer | 'unavailable';
  /** The clock retiring clusters expire by (retiring.ts). */
  readonly now?: () => number;
  /** How long a dropped cluster is still served to nodes that may route to it. @default defaults.retiringClusterTtlMs */
  readonly retiringClusterTtlMs?: number;
  /**
   * Shares each selection among the requests that ask the same question of the same cached
   * items (the push tier: a change wakes many streams at once); without it every request selects.
   */
  readonly selections?: SelectionMemo;
}

/** PollSummary says what a poll was and how it was answered, for logs and metrics. */
export interface PollSummary {
  readonly nodeId: string;
  readonly service: string;
  readonly type: XdsTypeName;
  readonly resourceNames: readonly string[];
  readonly reportedVersion: string;
  readonly answeredVersion: string;
  /** LDS/RDS held back until the node has the clusters they reference. */
  readonly held: boolean;
  /** CDS: the dropped clusters still served, until the node's listeners and routes stop using them. */
  readonly retiring?: readonly string[];
  readonly nack?: Nack;
  readonly trackingError?: string;
}

/**
 * XdsAnswer is the core's answer to one request: a response to send, word that the node
 * already has what it should (`not-modified`), or a typed refusal.
 */
export type XdsAnswer =
  | {
      readonly kind: 'response';
      readonly versionInfo: string;
      readonly resources: readonly EnvoyResource[];
      readonly typeUrl: string;
      readonly nonce: string;
      readonly poll: PollSummary;
    }
  | { readonly kind: 'not-modified'; readonly versionInfo: string; readonly poll: PollSummary }
  | { readonly kind: 'refusal'; readonly refusal: XdsRefusal };

/**
 * discover answers one xDS request: it finds the node's service, selects the resources of the
 * asked type from that service's snapshot (or the EDS items it names, or its secrets), and
 * says `not-modified` when the node already has that version. A failed read is `unavailable`
 * (Envoy keeps its config), never fewer resources. It knows no transport: the REST adapter
 * (shared/api/discovery.ts) and any streaming server map its answers to their status codes.
 */
export async function discover(deps: DiscoveryDeps, request: XdsRequest, principal?: Principal): Promise<XdsAnswer> {
  try {
    return await answer(deps, request, principal);
  } catch (err) {
    if (err instanceof XdsRefusal) return { kind: 'refusal', refusal: err };
    if (err instanceof StoreUnavailableError) {
      return { kind: 'refusal', refusal: new XdsRefusal('unavailable', 'state store unavailable; retry later', undefined, { cause: err }) };
    }
    throw err;
  }
}

async function answer(deps: DiscoveryDeps, request: XdsRequest, principal: Principal | undefined): Promise<XdsAnswer> {
  const { type } = request;
  if (request.typeUrl !== undefined && request.typeUrl !== typeUrls[type]) {
    throw new XdsRefusal('bad-request', `type_url "${request.typeUrl}" does not match the ${type} service, which serves "${typeUrls[type]}"`);
  }
  const node = identifyNode(request.node);
  const authMode = deps.authMode ?? 'none';
  // Who asks is settled before anything is read: an unauthenticated caller learns nothing.
  if (authMode !== 'none' && !principal) throw new XdsRefusal('unauthenticated', 'the request is not authenticated');
  if (authMode === 'token' || authMode === 'mtls') authorizeNode(authMode, principal, node.service, []);
  const names = [...new Set(request.resourceNames)].sort();
  const now = (deps.now ?? Date.now)();
  const reported = request.versionInfo;
  const forms: ServedForms = isProxylessNode(request.node) ? 'proxyless' : isAdsNode(request.node) ? adsFormsOf(request.node) : 'rest';
  const { selection, snapshot } = await select(deps, node.service, type, names, principal, forms, now);
  const live = snapshot ? liveRetiringClusters(snapshot, now, deps.retiringClusterTtlMs ?? defaults.retiringClusterTtlMs) : [];
  const { selection: current, retiring } =
    type === 'clusters' && snapshot
      ? clustersForNode(selection, live, reported, () => hasLeftRetiringClusters(deps.tracker?.status(node.id), snapshot, request.streamTypes))
      : { selection, retiring: [] };
  const held = shouldHold(deps.tracker, node.id, type, reported, current, snapshot && clusterVersionsReferenced(snapshot, live));
  const answered = held ? reported : current.version;

  let nack: Nack | undefined;
  let trackingError: string | undefined;
  if (deps.tracker) {
    try {
      nack = await deps.tracker.observe({
        nodeId: node.id,
        service: node.service,
        zone: node.zone,
        type,
        resourceNames: names,
        reportedVersion: reported,
        errorMessage: request.errorDetail ? (request.errorDetail.message ?? `error code ${request.errorDetail.code}`) : undefined,
        currentVersion: answered,
        currentChangedAt: current.changedAt,
        forms,
        ...(request.streamTypes ? { streamed: true } : {}),
      });
    } catch (err) {
      trackingError = (err as Error).message;
    }
  }
  const poll: PollSummary = {
    nodeId: node.id,
    service: node.service,
    type,
    resourceNames: names,
    reportedVersion: reported,
    answeredVersion: answered,
    held,
    ...(retiring.length > 0 ? { retiring } : {}),
    ...(nack ? { nack } : {}),
    ...(trackingError ? { trackingError } : {}),
  };
  // Never 'not modified' to an empty version_info: Envoy waits for a real answer while it starts.
  if (reported !== '' && reported === answered) return { kind: 'not-modified', versionInfo: answered, poll };
  return {
    kind: 'response',
    versionInfo: current.version,
    resources: current.resources,
    typeUrl: typeUrls[type],
    nonce: randomBytes(6).toString('base64url'),
    poll,
  };
}

export interface NodeIdentity {
  readonly id: string;
  readonly service: string;
  readonly zone?: string;
}

/**
 * identifyNode reads who is polling: `node.id` names the Envoy, `node.cluster` its mesh
 * service (the generated bootstrap sets both; `mesh.service` metadata is accepted too).
 */
export function identifyNode(node: DiscoveryNode | undefined): NodeIdentity {
  if (!node) throw new XdsRefusal('bad-request', 'DiscoveryRequest has no node: Envoy identifies itself with node.id and node.cluster');
  const fromMetadata = node.metadata?.['mesh.service'];
  const service = node.cluster || (typeof fromMetadata === 'string' ? fromMetadata : undefined);
  if (!service) throw new XdsRefusal('bad-request', 'node.cluster is empty: it must name the mesh service of this Envoy');
  if (!node.id) throw new XdsRefusal('bad-request', 'node.id is empty: every Envoy must have a unique node id');
  return { id: node.id, service, ...(node.locality?.zone ? { zone: node.locality.zone } : {}) };
}

/**
 * isProxylessNode tells a gRPC client (proxyless: gRPC's own xDS client, no Envoy) from an
 * Envoy, so it is served the forms gRPC accepts (render/proxyless.ts). A node says so with
 * `mesh.proxyless` metadata (true or false wins); otherwise every gRPC implementation names
 * itself in `user_agent_name` ("gRPC Node Pure JS", "gRPC Go", "gRPC Java", "gRPC C-core"),
 * where Envoy says "envoy".
 */
export function isProxylessNode(node: DiscoveryNode | undefined): boolean {
  const declared = node?.metadata?.['mesh.proxyless'];
  if (typeof declared === 'boolean') return declared;
  if (declared === 'true' || declared === 'false') return declared === 'true';
  return /^grpc\b/i.test(node?.user_agent_name ?? '');
}

/**
 * maxResourceNames is the most names a node of any service legitimately asks for in one
 * request (its dependencies' clusters, at most 500, and its own): a longer list is refused
 * before anything is read.
 */
export const maxResourceNames = 512;

/**
 * select authorizes first and reads only what the caller may have: the snapshot (which says
 * who may fetch it) is read alone, the caller is checked against it, and only then are the
 * named assignments or the secrets read, and only names the service could ask for. Under IAM
 * an undeclared service is refused exactly as a forbidden one, so callers cannot probe which
 * services exist.
 */
async function select(
  deps: DiscoveryDeps,
  service: string,
  type: XdsTypeName,
  names: readonly string[],
  principal: Principal | undefined,
  forms: ServedForms,
  nowMs: number,
): Promise<{ selection: Selection; snapshot?: SnapshotItem }> {
  const proxyless = forms === 'proxyless';
  if (names.length > maxResourceNames) {
    throw new XdsRefusal('bad-request', `${names.length} resource_names; a node asks for at most ${maxResourceNames}`);
  }
  const authMode = deps.authMode ?? 'none';
  const { snapshot: stored } = await deps.cache.rendered(service);
  if (authMode === 'iam') {
    if (!stored) throw new XdsRefusal('refused', `the caller is not allowed to fetch the configuration of "${service}"`);
    authorizeNode('iam', principal, service, stored.identity?.iamRoleArns ?? []);
  }
  if (!stored) throw new XdsRefusal('not-found', `service "${service}" is not declared`);
  if (proxyless && !stored.proxyless) throw new XdsRefusal('unavailable', `the snapshot of "${service}" has no proxyless gRPC forms yet; it is re-rendered at its next change`);
  if (proxyless && type === 'secrets') throw new XdsRefusal('not-found', 'proxyless gRPC clients are served no secrets (SDS)');
  // The proxyless and ADS forms replace the stored Envoy ones whole, retiring clusters included.
  const snapshot: SnapshotItem = proxyless
    ? { ...stored, ...stored.proxyless!, retiringClusters: stored.proxyless!.retiringClusters ?? [] }
    : isAdsForms(forms)
      ? adsSnapshotOf(stored, forms)
      : stored;
  // The same question of the same cached items has the same answer: made once when memoised
  // (the forms are a function of the stored item, so it is the input).
  const memo = (inputs: readonly unknown[], make: () => Selection): Selection =>
    deps.selections ? deps.selections.select(selectionKey(service, type, names, forms), inputs, make) : make();
  if (type === 'secrets') {
    checkSecretsRequest(deps.sealer, service, names);
    const { secrets } = await deps.cache.rendered(service, [], true, { snapshotJustRead: true });
    // Not memoised: a memo would keep opened private keys alive after the streams that asked are gone.
    return { selection: selectSecrets(deps.sealer, service, names, secrets), snapshot };
  }
  if (type !== 'endpoints') return { selection: memo([stored], () => selectFromSnapshot(snapshot, type, names)), snapshot };
  if (names.length === 0) throw new XdsRefusal('bad-request', 'an endpoints request must name the clusters it wants in resource_names');
  // Its dependencies' clusters, and its own: the bootstrap's local cluster for zone-aware routing;
  // and the retiring ones, answered while CDS may still serve them.
  const retiring = liveRetiringClusters(snapshot, nowMs, deps.retiringClusterTtlMs ?? defaults.retiringClusterTtlMs);
  const allowed = new Set([service, ...[...(snapshot.resources.clusters ?? []), ...retiring.map((r) => r.resource)].map((c) => String(c.name))]);
  const refused = names.filter((n) => !allowed.has(n));
  if (refused.length > 0) {
    throw new XdsRefusal('refused', `service "${service}" has no cluster ${refused.map((n) => `"${n}"`).join(', ')}`);
  }
  const { assignments } = await deps.cache.rendered(service, names, false, { snapshotJustRead: true });
  const selection = memo(names.map((n) => assignments.get(n)), () =>
    proxyless ? selectProxylessAssignments(assignments, names) : selectAssignments(assignments, names),
  );
  return { selection, snapshot };
}

/**
 * clusterVersionsReferenced are the CDS versions that hold every cluster the snapshot's
 * listeners and routes use: the current clusters, and the transitional set (retiring.ts).
 */
function clusterVersionsReferenced(snapshot: SnapshotItem, live: readonly RetiringResource[]): ReadonlySet<string> | undefined {
  const current = snapshot.versions.clusters;
  if (current === undefined) return undefined;
  if (live.length === 0) return new Set([current]);
  const transitional = selectTransitionalClusters({ version: current, resources: [] }, live).version;
  return new Set([current, transitional]);
}

/**
 * shouldHold keeps a node's listeners and routes where they are until it has applied the
 * clusters of the same snapshot (the current set, or the transitional one with retiring
 * clusters too): REST polls of LDS, RDS and CDS are independent, and a route to a cluster
 * Envoy does not have yet is a 503 (make before break, ENVOY-REST.md). Only a node this
 * container knows is held, and never one that has no version at all.
 */
function shouldHold(
  tracker: NodeTracker | undefined,
  nodeId: string,
  type: XdsTypeName,
  reported: string,
  current: Selection,
  clusterVersions: ReadonlySet<string> | undefined,
): boolean {
  if (!tracker || !clusterVersions || reported === '' || reported === current.version) return false;
  if (type !== 'listeners' && type !== 'routes') return false;
  const clusters = tracker.status(nodeId)?.subscriptions.clusters;
  return clusters !== undefined && !clusterVersions.has(clusters.appliedVersion);
}

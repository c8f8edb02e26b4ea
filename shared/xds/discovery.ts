import { randomBytes } from 'node:crypto';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse, parseJsonBody } from '../api/http';
import { Nack } from '../model/node-status';
import { SnapshotCache } from './snapshot-cache';
import { NodeTracker } from './node-tracker';
import { DiscoveryNode, parseDiscoveryRequest } from './request';
import { Selection, selectAssignments, selectFromSnapshot } from './selection';
import { typeNameFromPath } from './types';
import { XdsTypeName, typeUrls } from '../envoy/resources';
import { AuthMode, Principal, authorizeNode } from './authorization';
import { SecretSealer } from '../secrets/sealer';
import { ServiceSecretsItem } from '../store/records';
import { serviceSecrets } from '../render/secret';
import { names as secretNames } from '../render/names';
import { contentVersion } from '../envoy/version';

/** Envoy's node carries every compiled-in extension: several KB, rarely more than 64 KB. */
export const discoveryBodyLimitBytes = 1024 * 1024;

export interface DiscoveryDeps {
  readonly cache: SnapshotCache;
  /** Follows nodes for status, convergence and NACKs; without it polls are answered untracked. */
  readonly tracker?: NodeTracker;
  /** How callers are authenticated: IAM in AWS, tokens or nothing locally. */
  readonly authMode?: AuthMode;
  /** Opens the sealed private keys SDS serves; without it SDS is off; 'unavailable' when it could not be loaded (503). */
  readonly sealer?: SecretSealer | 'unavailable';
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
  readonly nack?: Nack;
  readonly trackingError?: string;
}

export interface DiscoveryAnswer extends HttpResponse {
  readonly poll?: PollSummary;
}

/**
 * handleDiscovery answers one REST xDS poll (`POST /v3/discovery:<type>`): it finds the
 * node's service, selects the resources of the asked type from that service's snapshot (or
 * the EDS items it names), and answers 304 when the node already has that version, else a
 * DiscoveryResponse. A failed read is a 503 (Envoy keeps its config), never fewer resources.
 * Transport-free: the Lambda and the local server adapt it.
 */
export async function handleDiscovery(deps: DiscoveryDeps, req: HttpRequest, principal?: Principal): Promise<DiscoveryAnswer> {
  try {
    const type = typeNameFromPath(req.path);
    if (!type) {
      throw new HttpError(404, `no discovery service at ${req.path}; use /v3/discovery:<listeners|routes|clusters|endpoints|secrets>`);
    }
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed; Envoy's REST xDS uses POST`);
    const request = parseDiscoveryRequest(parseJsonBody(req.body, discoveryBodyLimitBytes));
    if (request.type_url !== undefined && request.type_url !== typeUrls[type]) {
      throw new HttpError(400, `type_url "${request.type_url}" does not match ${req.path}, which serves "${typeUrls[type]}"`);
    }
    const node = identifyNode(request.node);
    const authMode = deps.authMode ?? 'none';
    // Who asks is settled before anything is read: an unauthenticated caller learns nothing.
    if (authMode !== 'none' && !principal) throw new HttpError(401, 'the request is not authenticated');
    if (authMode === 'token') authorizeNode(authMode, principal, node.service, []);
    const names = [...new Set(request.resource_names ?? [])].sort();
    const reported = request.version_info ?? '';
    const { selection: current, clustersVersion } = await select(deps, node.service, type, names, principal);
    const held = shouldHold(deps.tracker, node.id, type, reported, current, clustersVersion);
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
          errorMessage: request.error_detail ? (request.error_detail.message ?? `error code ${request.error_detail.code}`) : undefined,
          currentVersion: answered,
          currentChangedAt: current.changedAt,
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
      ...(nack ? { nack } : {}),
      ...(trackingError ? { trackingError } : {}),
    };
    // Never 304 an empty version_info: Envoy waits for a real answer while it starts.
    if (reported !== '' && reported === answered) return { status: 304, poll };
    return {
      ...jsonResponse(200, {
        version_info: current.version,
        resources: current.resources,
        type_url: typeUrls[type],
        nonce: randomBytes(6).toString('base64url'),
      }),
      poll,
    };
  } catch (err) {
    return errorResponse(err);
  }
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
  if (!node) throw new HttpError(400, 'DiscoveryRequest has no node: Envoy identifies itself with node.id and node.cluster');
  const fromMetadata = node.metadata?.['mesh.service'];
  const service = node.cluster || (typeof fromMetadata === 'string' ? fromMetadata : undefined);
  if (!service) throw new HttpError(400, 'node.cluster is empty: it must name the mesh service of this Envoy');
  if (!node.id) throw new HttpError(400, 'node.id is empty: every Envoy must have a unique node id');
  return { id: node.id, service, ...(node.locality?.zone ? { zone: node.locality.zone } : {}) };
}

async function select(
  deps: DiscoveryDeps,
  service: string,
  type: XdsTypeName,
  names: readonly string[],
  principal: Principal | undefined,
): Promise<{ selection: Selection; clustersVersion?: string }> {
  const { snapshot, assignments, secrets } = await deps.cache.rendered(service, type === 'endpoints' ? names : [], type === 'secrets');
  if (!snapshot) throw new HttpError(404, `service "${service}" is not declared`);
  if ((deps.authMode ?? 'none') === 'iam') authorizeNode('iam', principal, service, snapshot.identity?.iamRoleArns ?? []);
  const clustersVersion = snapshot.versions.clusters;
  if (type === 'secrets') return { selection: selectSecrets(deps, service, names, secrets), clustersVersion };
  if (type !== 'endpoints') return { selection: selectFromSnapshot(snapshot, type, names), clustersVersion };
  if (names.length === 0) throw new HttpError(400, 'an endpoints request must name the clusters it wants in resource_names');
  // Its dependencies' clusters, and its own: the bootstrap's local cluster for zone-aware routing.
  const allowed = new Set([service, ...(snapshot.resources.clusters ?? []).map((c) => String(c.name))]);
  const refused = names.filter((n) => !allowed.has(n));
  if (refused.length > 0) {
    throw new HttpError(403, `service "${service}" has no cluster ${refused.map((n) => `"${n}"`).join(', ')}`);
  }
  return { selection: selectAssignments(assignments, names), clustersVersion };
}

/**
 * selectSecrets serves a service its own certificate and the mesh trust bundle, and nothing
 * else. Envoy polls each SDS secret on its own and rejects an answer that does not hold
 * exactly the one it asked for, so the answer is filtered to the names asked.
 */
function selectSecrets(deps: DiscoveryDeps, service: string, names: readonly string[], secrets: ServiceSecretsItem | undefined): Selection {
  if (!deps.sealer) throw new HttpError(404, 'this control plane serves no secrets (SDS is not configured)');
  if (deps.sealer === 'unavailable') throw new HttpError(503, 'secrets cannot be opened right now; retry');
  if (names.length === 0) throw new HttpError(400, 'a secrets request must name the secrets it wants in resource_names');
  const allowed = new Set([secretNames.serviceCertificateSecret(service), secretNames.trustBundleSecret]);
  const refused = names.filter((n) => !allowed.has(n));
  if (refused.length > 0) throw new HttpError(403, `service "${service}" may not fetch ${refused.map((n) => `"${n}"`).join(', ')}`);
  if (!secrets) throw new HttpError(503, `the certificate of "${service}" is not issued yet; retry`);
  const wanted = new Set(names);
  const resources = serviceSecrets(
    { certificatePem: secrets.certificatePem, privateKeyPem: deps.sealer.open(secrets.sealedPrivateKey) },
    secrets.trustBundlePem,
    service,
  ).filter((r) => wanted.has(String(r.name)));
  return { version: contentVersion(resources), resources, changedAt: secrets.notBefore };
}

/**
 * shouldHold keeps a node's listeners and routes where they are until it has applied the
 * clusters of the same snapshot: REST polls of LDS, RDS and CDS are independent, and a route
 * to a cluster Envoy does not have yet is a 503 (make before break, ENVOY-REST.md). Only a
 * node this container knows is held, and never one that has no version at all.
 */
function shouldHold(
  tracker: NodeTracker | undefined,
  nodeId: string,
  type: XdsTypeName,
  reported: string,
  current: Selection,
  clustersVersion: string | undefined,
): boolean {
  if (!tracker || !clustersVersion || reported === '' || reported === current.version) return false;
  if (type !== 'listeners' && type !== 'routes') return false;
  const clusters = tracker.status(nodeId)?.subscriptions.clusters;
  return clusters !== undefined && clusters.appliedVersion !== clustersVersion;
}

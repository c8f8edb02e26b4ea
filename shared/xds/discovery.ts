import { randomBytes } from 'node:crypto';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse, parseJsonBody } from '../api/http';
import { contentVersion } from '../render/version';
import { EnvoyResource } from '../store/records';
import { SnapshotCache } from './snapshot-cache';
import { DiscoveryNode, DiscoveryRequest, parseDiscoveryRequest } from './request';
import { XdsTypeName, typeNameFromPath, typeUrls, wildcardTypes } from './types';

/** Envoy's node carries every compiled-in extension: several KB, rarely more than 64 KB. */
export const discoveryBodyLimitBytes = 1024 * 1024;

export interface DiscoveryDeps {
  readonly cache: SnapshotCache;
}

/** What a poll resolved to, before it became a response: the adapters log and count it. */
export interface Selection {
  readonly service: string;
  readonly type: XdsTypeName;
  readonly version: string;
  readonly resources: readonly EnvoyResource[];
}

/**
 * handleDiscovery answers one REST xDS poll (`POST /v3/discovery:<type>`): it finds the
 * node's service, selects the resources of the asked type from that service's snapshot (or
 * the EDS items of the asked services), and answers 304 when the node already has that
 * version, else a DiscoveryResponse. Transport-free: Lambda and the local server adapt it.
 */
export async function handleDiscovery(deps: DiscoveryDeps, req: HttpRequest): Promise<HttpResponse> {
  try {
    const type = typeNameFromPath(req.path);
    if (!type) throw new HttpError(404, `no discovery service at ${req.path}; use /v3/discovery:<listeners|routes|clusters|endpoints|secrets>`);
    if (req.method !== 'POST') throw new HttpError(405, `${req.method} is not allowed; Envoy's REST xDS uses POST`);
    const request = parseDiscoveryRequest(parseJsonBody(req.body, discoveryBodyLimitBytes));
    if (request.type_url !== undefined && request.type_url !== typeUrls[type]) {
      throw new HttpError(400, `type_url "${request.type_url}" does not match ${req.path}, which serves "${typeUrls[type]}"`);
    }
    const service = serviceOfNode(request.node);
    const selection = await select(deps, service, type, request);
    // Never 304 an empty version_info: Envoy waits for a real answer while it starts.
    if (request.version_info && request.version_info === selection.version) return { status: 304 };
    return jsonResponse(200, {
      version_info: selection.version,
      resources: selection.resources,
      type_url: typeUrls[type],
      nonce: randomBytes(6).toString('base64url'),
    });
  } catch (err) {
    return errorResponse(err);
  }
}

/** serviceOfNode reads the node's service from `node.cluster`, as the generated bootstrap sets it. */
export function serviceOfNode(node: DiscoveryNode | undefined): string {
  if (!node) throw new HttpError(400, 'DiscoveryRequest has no node: Envoy identifies itself with node.id and node.cluster');
  const fromMetadata = node.metadata?.['mesh.service'];
  const service = node.cluster || (typeof fromMetadata === 'string' ? fromMetadata : undefined);
  if (!service) throw new HttpError(400, 'node.cluster is empty: it must name the mesh service of this Envoy');
  return service;
}

async function select(
  deps: DiscoveryDeps,
  service: string,
  type: XdsTypeName,
  request: DiscoveryRequest,
): Promise<Selection> {
  const snapshot = await deps.cache.snapshot(service);
  if (!snapshot) throw new HttpError(404, `service "${service}" is not declared`);
  const names = [...new Set(request.resource_names ?? [])].sort();

  if (type === 'endpoints') {
    const allowed = new Set((snapshot.resources.clusters ?? []).map((c) => String(c.name)));
    const refused = names.filter((n) => !allowed.has(n));
    if (refused.length > 0) {
      throw new HttpError(403, `service "${service}" does not depend on ${refused.map((n) => `"${n}"`).join(', ')}`);
    }
    const assignments = await deps.cache.assignments(names);
    const found = names.flatMap((n) => {
      const a = assignments.get(n);
      return a ? [a] : [];
    });
    const version = found.length === 1 ? found[0]!.version : contentVersion(found.map((a) => a.version));
    return { service, type, version, resources: found.map((a) => a.resource) };
  }

  const all = snapshot.resources[type] ?? [];
  if (wildcardTypes.has(type) || names.length === 0) {
    return { service, type, version: snapshot.versions[type] ?? contentVersion([]), resources: all };
  }
  const wanted = new Set(names);
  const resources = all.filter((r) => wanted.has(String(r.name)));
  return { service, type, version: contentVersion(resources), resources };
}

import { XdsTypeName, typeUrls, wildcardTypes } from '../shared/envoy/resources';
import { contentVersion } from '../shared/envoy/version';
import { DiscoveryNode, parseDiscoveryRequest } from '../shared/xds/request';
import { XdsStream } from './xds-stream';

/** DeltaRequest is a DeltaDiscoveryRequest as the codec reads it (proto3 JSON, Envoy's field names). */
export interface DeltaRequest {
  readonly node?: DiscoveryNode;
  readonly type_url?: string;
  readonly resource_names_subscribe?: readonly string[];
  readonly resource_names_unsubscribe?: readonly string[];
  readonly initial_resource_versions?: Readonly<Record<string, string>>;
  readonly response_nonce?: string;
  readonly error_detail?: { code?: number; message?: string };
}

/** DeltaResponse is a DeltaDiscoveryResponse: only what changed, and what was removed. */
export interface DeltaResponse {
  readonly system_version_info: string;
  readonly resources: readonly { name: string; version: string; resource: Record<string, unknown> }[];
  readonly type_url: string;
  readonly removed_resources: readonly string[];
  readonly nonce: string;
}

/** parseDeltaRequest checks the node as a state-of-the-world request's is checked; the codec has checked the rest's types. */
export function parseDeltaRequest(json: Record<string, unknown>): DeltaRequest {
  const { node } = parseDiscoveryRequest({ node: json.node });
  return { ...(json as DeltaRequest), ...(node ? { node } : {}) };
}

interface DeltaTypeState {
  /** LDS and CDS with no names (or '*'): everything the node should have. */
  wildcard: boolean;
  names: Set<string>;
  /** What the client has, by name: from initial_resource_versions, then what was sent. */
  readonly known: Map<string, string>;
  /** The core's version of what the client last ACKed ('' before). */
  applied: string;
  sentVersion?: string;
  pendingNonce?: string;
  errorDetail?: { code?: number; message?: string };
}

/**
 * versionOf is a resource's content version, hashed once per resource object: the streams a
 * change wakes are handed the same objects (the core's SelectionMemo), never mutated.
 */
const versions = new WeakMap<object, string>();
const versionOf = (resource: Record<string, unknown>): string => {
  let v = versions.get(resource);
  if (v === undefined) {
    v = contentVersion(resource);
    versions.set(resource, v);
  }
  return v;
};

/** resourceName is a resource's xDS name: ClusterLoadAssignments name theirs `cluster_name`. */
const resourceName = (r: Record<string, unknown>) => String(r.name ?? r.cluster_name);

/**
 * DeltaAdsStream is the incremental protocol of one `DeltaAggregatedResources` stream. It asks
 * the same core as the state-of-the-world stream, then sends only the resources whose content
 * version differs from what the client has, and names in `removed_resources` the ones it has
 * that are gone. A reconnecting client's `initial_resource_versions` are what it has, so
 * resources it holds unchanged are not resent (versions are content hashes: the same in any
 * process). As for the state of the world: one response of a type in flight at a time, and a
 * NACKed version is not sent again.
 */
export class DeltaAdsStream extends XdsStream<DeltaRequest, DeltaResponse> {
  private readonly types = new Map<XdsTypeName, DeltaTypeState>();

  subscribed(): ReadonlyMap<XdsTypeName, readonly string[]> {
    return new Map([...this.types].map(([t, s]) => [t, [...s.names].sort()]));
  }

  protected has(type: XdsTypeName): boolean {
    return this.types.has(type);
  }

  protected async handle(type: XdsTypeName, request: DeltaRequest): Promise<void> {
    const subscribe = request.resource_names_subscribe ?? [];
    let state = this.types.get(type);
    if (!state) {
      state = {
        wildcard: wildcardTypes.has(type) && (subscribe.length === 0 || subscribe.includes('*')),
        names: new Set(),
        known: new Map(Object.entries(request.initial_resource_versions ?? {})),
        applied: '',
      };
      this.types.set(type, state);
    }
    const nonce = request.response_nonce ?? '';
    if (nonce !== '' && nonce === state.pendingNonce) {
      state.pendingNonce = undefined;
      if (request.error_detail) state.errorDetail = request.error_detail;
      else state.applied = state.sentVersion ?? state.applied;
    }
    for (const name of subscribe) {
      if (name === '*') state.wildcard = true;
      else state.names.add(name);
    }
    for (const name of request.resource_names_unsubscribe ?? []) {
      if (name === '*') state.wildcard = false;
      state.names.delete(name);
      state.known.delete(name);
    }
    await this.evaluateAll(type);
  }

  protected async evaluate(type: XdsTypeName): Promise<void> {
    const state = this.types.get(type)!;
    if (state.pendingNonce !== undefined) return;
    const errorDetail = state.errorDetail;
    state.errorDetail = undefined;
    const names = [...state.names].sort();
    let version = '';
    let resources: readonly Record<string, unknown>[] = [];
    if (state.wildcard || names.length > 0) {
      const answer = await this.ask(type, state.wildcard ? [] : names, state.applied, errorDetail);
      if (answer?.kind !== 'response') return;
      version = answer.versionInfo;
      resources = answer.resources;
    }
    const present = new Set(resources.map(resourceName));
    const changed = resources.flatMap((resource) => {
      const name = resourceName(resource);
      const v = versionOf(resource);
      return state.known.get(name) === v ? [] : [{ name, version: v, resource }];
    });
    const removed = [...state.known.keys()].filter((n) => !present.has(n)).sort();
    if (changed.length === 0 && removed.length === 0) {
      state.applied = version; // the client has all of it already (a resync after a reconnect)
      return;
    }
    for (const c of changed) state.known.set(c.name, c.version);
    for (const n of removed) state.known.delete(n);
    const nonce = this.nextNonce(version || 'empty');
    state.pendingNonce = nonce;
    state.sentVersion = version;
    this.io.send({ system_version_info: version, resources: changed, type_url: typeUrls[type], removed_resources: removed, nonce });
  }
}

import { XdsRefusal } from './refusal';
import { XdsTypeName } from '../envoy/resources';
import { OutputOf, arrayOf, check, integer, looseObject, optional, recordOf, string, unknown } from '../shape';

/**
 * The parts of a DiscoveryRequest we act on. Envoy sends proto3 JSON with the original
 * snake_case names (`version_info`, `resource_names`, `type_url`); proto3 JSON parsers also
 * accept lowerCamelCase, so we do too. The node carries much more (its build, every compiled-in
 * extension): we read what we need and tolerate the rest, as Envoy's own parser would.
 * Checked with shapes (shared/shape.ts), not zod: this runs on every poll of the xds function.
 */
const nodeShape = looseObject({
  id: optional(string(1024)),
  cluster: optional(string(1024)),
  user_agent_name: optional(string(1024)),
  metadata: optional(recordOf(unknown)),
  locality: optional(looseObject({ region: optional(string()), zone: optional(string()), sub_zone: optional(string()) })),
});

const requestShape = looseObject({
  version_info: optional(string(256)),
  node: optional(nodeShape),
  resource_names: optional(arrayOf(string(1024), 10000)),
  type_url: optional(string(512)),
  response_nonce: optional(string(256)),
  error_detail: optional(looseObject({ code: optional(integer), message: optional(string(65536)) })),
});

export type DiscoveryRequest = OutputOf<typeof requestShape>;
export type DiscoveryNode = OutputOf<typeof nodeShape>;

const camelToSnake: Record<string, string> = {
  versionInfo: 'version_info',
  resourceNames: 'resource_names',
  typeUrl: 'type_url',
  responseNonce: 'response_nonce',
  errorDetail: 'error_detail',
  subZone: 'sub_zone',
  userAgentName: 'user_agent_name',
};

function normaliseKeys(value: unknown, depth = 0): unknown {
  if (depth > 2 || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const key = camelToSnake[k] ?? k;
    out[key] = key === 'node' || key === 'locality' ? normaliseKeys(v, depth + 1) : v;
  }
  return out;
}

/** parseDiscoveryRequest validates a request body, naming the field that is wrong. */
export function parseDiscoveryRequest(body: unknown): DiscoveryRequest {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new XdsRefusal('bad-request', 'a DiscoveryRequest must be a JSON object');
  }
  const parsed = check(requestShape, normaliseKeys(body));
  if (!parsed.ok) {
    throw new XdsRefusal('bad-request', 'invalid DiscoveryRequest', { problems: parsed.problems });
  }
  return parsed.value;
}

/**
 * XdsRequest is what the xDS core acts on, whatever carried it (a REST poll, a stream message):
 * who asks, for which type and names, what it has applied, and why it rejected the last answer.
 */
export interface XdsRequest {
  readonly type: XdsTypeName;
  readonly node: DiscoveryNode | undefined;
  readonly resourceNames: readonly string[];
  /** The version the node has applied ('' before its first update). */
  readonly versionInfo: string;
  readonly responseNonce?: string;
  readonly errorDetail?: { readonly code?: number; readonly message?: string };
  /** The type URL the request names, if any: it must be the one of `type`. */
  readonly typeUrl?: string;
  /**
   * On a stream, the types it subscribes: a type it does not subscribe holds nothing that
   * could route to a retiring cluster (retiring.ts). REST polls cannot say (undefined).
   */
  readonly streamTypes?: ReadonlySet<XdsTypeName>;
}

/** xdsRequestOf reads a validated DiscoveryRequest for the type its transport addressed. */
export function xdsRequestOf(type: XdsTypeName, wire: DiscoveryRequest): XdsRequest {
  return {
    type,
    node: wire.node,
    resourceNames: wire.resource_names ?? [],
    versionInfo: wire.version_info ?? '',
    ...(wire.response_nonce !== undefined ? { responseNonce: wire.response_nonce } : {}),
    ...(wire.error_detail ? { errorDetail: wire.error_detail } : {}),
    ...(wire.type_url !== undefined ? { typeUrl: wire.type_url } : {}),
  };
}

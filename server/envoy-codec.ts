import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, type DescMessage, type FileRegistry, type JsonValue } from '@bufbuild/protobuf';
import { AnySchema, FileDescriptorSetSchema, type Any } from '@bufbuild/protobuf/wkt';

/**
 * The wire codec of the push tier: DiscoveryRequests in, DiscoveryResponses out, as binary
 * protobuf, with every resource a real `google.protobuf.Any`.
 *
 * Why protobuf-es over Envoy's descriptor set rather than @grpc/proto-loader: the renderers
 * produce proto3 JSON (durations as "1s", enums by name, Anys with "@type", snake_case
 * names). proto-loader's protobufjs does not implement proto3 JSON for the well-known types
 * (Duration, Any, Struct), so it would need a second, hand-written mapping of every resource.
 * protobuf-es reads proto3 JSON exactly, and strictly (an unknown field or enum name throws),
 * from the same descriptor set the tests check our resources against
 * (`scripts/build-envoy-schema.mjs` compiles the protos @grpc/grpc-js-xds ships). So what the
 * tests accept is what the server can encode, and a rendering bug fails loudly instead of
 * shipping a resource Envoy would silently read differently. grpc-js then only moves bytes.
 */

const repoRoot = path.resolve(__dirname, '..');
export const envoySchemaFile = path.join(repoRoot, '.envoy-schema', 'envoy.binpb');
const buildScript = path.join(repoRoot, 'scripts', 'build-envoy-schema.mjs');

const requestType = 'envoy.service.discovery.v3.DiscoveryRequest';
const responseType = 'envoy.service.discovery.v3.DiscoveryResponse';
const deltaRequestType = 'envoy.service.discovery.v3.DeltaDiscoveryRequest';
const deltaResponseType = 'envoy.service.discovery.v3.DeltaDiscoveryResponse';

/** EnvoyCodec turns wire bytes into the proto3 JSON the xDS core reads, and back. */
export interface EnvoyCodec {
  /** decodeRequest reads a DiscoveryRequest into proto3 JSON with Envoy's field names (`version_info`, ...). */
  decodeRequest(bytes: Uint8Array): Record<string, unknown>;
  /** encodeResponse writes a DiscoveryResponse given as proto3 JSON (resources with "@type"); throws on anything Envoy's protos do not define. */
  encodeResponse(json: Record<string, unknown>): Uint8Array;
  /** decodeResponse is the inverse, for clients and tests. */
  decodeResponse(bytes: Uint8Array): Record<string, unknown>;
  /** encodeRequest is the inverse of decodeRequest, for clients and tests. */
  encodeRequest(json: Record<string, unknown>): Uint8Array;
  /** The same four for the incremental (delta) messages. */
  readonly delta: Pick<EnvoyCodec, 'decodeRequest' | 'encodeResponse' | 'decodeResponse' | 'encodeRequest'>;
}

let loaded: FileRegistry | undefined;

/**
 * envoyRegistry loads Envoy's compiled descriptor set once per process, building it first
 * (offline, from node_modules) when it is missing: `npm test` builds it, `npm start` may not have.
 */
export function envoyRegistry(): FileRegistry {
  if (loaded) return loaded;
  if (!existsSync(envoySchemaFile)) {
    const built = spawnSync(process.execPath, [buildScript], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`Envoy's descriptor set is missing and ${buildScript} failed: ${built.stderr || built.stdout}`);
  }
  loaded = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(envoySchemaFile)));
  return loaded;
}

function message(registry: FileRegistry, name: string): DescMessage {
  const desc = registry.getMessage(name);
  if (!desc) throw new Error(`Envoy's descriptor set has no ${name}; rebuild it with node scripts/build-envoy-schema.mjs --force`);
  return desc;
}

/** envoyCodec builds the codec over a registry (Envoy's, by default). */
export function envoyCodec(registry: FileRegistry = envoyRegistry()): EnvoyCodec {
  const read = (desc: DescMessage) => (bytes: Uint8Array) =>
    toJson(desc, fromBinary(desc, bytes), { registry, useProtoFieldName: true }) as Record<string, unknown>;
  const write = (desc: DescMessage) => (json: Record<string, unknown>) =>
    toBinary(desc, fromJson(desc, json as JsonValue, { registry, ignoreUnknownFields: false }));
  const pair = (requestName: string, responseName: string) => {
    const request = message(registry, requestName);
    const response = message(registry, responseName);
    return { decodeRequest: read(request), encodeResponse: write(response), decodeResponse: read(response), encodeRequest: write(request) };
  };
  const sotw = pair(requestType, responseType);
  const response = message(registry, responseType);
  // A push sends the same resource objects (the cache's, never mutated once read) to every
  // stream: each is encoded into its Any once, and only the envelope (version, nonce) per
  // stream. Measured: 1,000 encodes of a 10-endpoint assignment, 155 ms before, 54 ms after.
  const anys = new WeakMap<object, Any>();
  const anyOf = (resource: Record<string, unknown>): Any => {
    let any = anys.get(resource);
    if (!any) {
      any = fromJson(AnySchema, resource as JsonValue, { registry, ignoreUnknownFields: false });
      anys.set(resource, any);
    }
    return any;
  };
  // And the resources of one selection (the core hands every stream it wakes the same array,
  // see shared/xds/selection-memo.ts) are encoded once, as the bytes of field 2: a protobuf
  // message is the concatenation of its fields, so each stream's response is its own envelope
  // (version_info, then type_url and nonce) around those shared bytes.
  const bodies = new WeakMap<object, Uint8Array>();
  const bodyOf = (resources: readonly Record<string, unknown>[]): Uint8Array => {
    let body = bodies.get(resources);
    if (!body) {
      body = toBinary(response, create(response, { resources: resources.map(anyOf) }));
      bodies.set(resources, body);
    }
    return body;
  };
  const encodeResponse = (json: Record<string, unknown>) => {
    const { resources, version_info, ...rest } = json as { resources?: readonly Record<string, unknown>[]; version_info?: unknown };
    const head = toBinary(response, fromJson(response, (version_info === undefined ? {} : { version_info }) as JsonValue, { registry, ignoreUnknownFields: false }));
    const body = resources && resources.length > 0 ? bodyOf(resources) : new Uint8Array(0);
    const tail = toBinary(response, fromJson(response, rest as JsonValue, { registry, ignoreUnknownFields: false }));
    const out = new Uint8Array(head.length + body.length + tail.length);
    out.set(head, 0);
    out.set(body, head.length);
    out.set(tail, head.length + body.length);
    return out;
  };
  return { ...sotw, encodeResponse, delta: pair(deltaRequestType, deltaResponseType) };
}

/**
 * (Over 350 lines on purpose: one checker of Envoy's validation rules, walked field by field.)
 *
 * Strict conformance checks for the xDS resources we serve, against Envoy's own
 * v3 API protos (compiled by scripts/build-envoy-schema.mjs).
 *
 * Why: Envoy ignores unknown fields in dynamic config, so a misspelled or
 * misplaced field is silently dropped in production. Decoding every resource
 * with protobuf-es' strict JSON parser (unknown fields, wrong types and bad
 * enum names all throw) and then checking the protoc-gen-validate (PGV) rules
 * Envoy enforces on ingest catches those bugs in unit tests instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import {
  createFileRegistry,
  fromBinary,
  fromJson,
  getOption,
  hasOption,
  toJson,
  type DescExtension,
  type DescField,
  type DescMessage,
  type FileRegistry,
  type JsonValue,
  type Message,
} from '@bufbuild/protobuf';
import { reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { anyUnpack, FileDescriptorSetSchema, type Any } from '@bufbuild/protobuf/wkt';

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SCHEMA_FILE = path.join(REPO_ROOT, '.envoy-schema', 'envoy.binpb');
const BUILD_SCRIPT = path.join(REPO_ROOT, 'scripts', 'build-envoy-schema.mjs');
const DISCOVERY_RESPONSE = 'envoy.service.discovery.v3.DiscoveryResponse';
const ANY = 'google.protobuf.Any';

/** Thrown by {@link assertConformant}; `violations` keeps the individual problems for assertions. */
export class EnvoyConformanceError extends Error {
  constructor(
    message: string,
    readonly violations: readonly string[],
  ) {
    super(message);
    this.name = 'EnvoyConformanceError';
  }
}

interface Schema {
  registry: FileRegistry;
  fieldRules: DescExtension;
  oneofRequired: DescExtension;
  messageDisabled: DescExtension;
  fieldRulesDesc: DescMessage;
}

let schema: Schema | undefined;

/**
 * The registry is ~0.5 MB of descriptors, so it is built lazily once per
 * process (i.e. once per jest worker). If the schema was never built (fresh
 * clone with --ignore-scripts), build it here; the script is offline.
 */
export function envoySchema(): Schema {
  if (schema) return schema;
  if (!existsSync(SCHEMA_FILE)) {
    const r = spawnSync(process.execPath, [BUILD_SCRIPT], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`Envoy schema missing and \`node scripts/build-envoy-schema.mjs\` failed:\n${r.stderr || r.stdout}`);
    }
  }
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(SCHEMA_FILE)));
  const ext = (name: string): DescExtension => {
    const e = registry.getExtension(name);
    if (!e) throw new Error(`Envoy schema lacks extension ${name}; rebuild with --force`);
    return e;
  };
  const fieldRulesDesc = registry.getMessage('validate.FieldRules');
  if (!fieldRulesDesc) throw new Error('Envoy schema lacks validate.FieldRules; rebuild with --force');
  schema = {
    registry,
    fieldRules: ext('validate.rules'),
    oneofRequired: ext('validate.required'),
    messageDisabled: ext('validate.disabled'),
    fieldRulesDesc,
  };
  return schema;
}

function messageDesc(typeUrlOrName: string): DescMessage {
  const name = typeUrlOrName.slice(typeUrlOrName.lastIndexOf('/') + 1);
  const desc = envoySchema().registry.getMessage(name);
  if (!desc) throw new Error(`Unknown Envoy type "${typeUrlOrName}" (not in .envoy-schema/envoy.binpb)`);
  return desc;
}

/**
 * Decodes `json` as the message named by `typeUrl` (e.g.
 * `type.googleapis.com/envoy.config.cluster.v3.Cluster`, or the bare type name),
 * rejecting unknown fields, wrong JSON types and unknown enum names, including
 * inside nested `google.protobuf.Any`s. The input is round-tripped through
 * JSON.stringify first, so it is judged exactly as it would go over the wire
 * (undefined properties vanish, Dates become strings, ...).
 */
export function decodeStrict(typeUrl: string, json: unknown): Message {
  return decode(messageDesc(typeUrl), json, typeUrl);
}

function decode(desc: DescMessage, json: unknown, label: string): Message {
  const wire = JSON.parse(JSON.stringify(json) ?? 'null') as JsonValue;
  try {
    return fromJson(desc, wire, { registry: envoySchema().registry, ignoreUnknownFields: false });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new Error(`${label.slice(label.lastIndexOf('/') + 1)} does not decode strictly: ${reason}`, { cause: err });
  }
}

/** A resource as it appears in a DiscoveryResponse's `resources`: a JSON-encoded Any. */
export interface TypedResource {
  '@type': string;
  [field: string]: unknown;
}

/** Decodes a JSON `google.protobuf.Any` strictly and returns the unpacked inner message. */
export function decodeAny(resource: TypedResource): Message {
  const typeUrl = resource?.['@type'];
  if (typeof typeUrl !== 'string') throw new Error('decodeAny: resource has no "@type"');
  messageDesc(typeUrl); // fail with "Unknown Envoy type" rather than a generic Any error
  const inner = anyUnpack(decode(messageDesc(ANY), resource, typeUrl) as Any, envoySchema().registry);
  if (!inner) throw new Error(`decodeAny: cannot unpack ${typeUrl}`);
  return inner;
}

/**
 * Decodes a whole DiscoveryResponse strictly (resources are Anys). Also checks
 * what Envoy checks on ingest: every resource's type URL matches `type_url`
 * (except `envoy.service.discovery.v3.Resource` wrappers).
 */
export function decodeDiscoveryResponse(json: unknown): Message {
  const response = decodeStrict(DISCOVERY_RESPONSE, json);
  const { typeUrl, resources } = response as Message & { typeUrl: string; resources: Any[] };
  resources.forEach((r, i) => {
    if (r.typeUrl !== typeUrl && !r.typeUrl.endsWith('/envoy.service.discovery.v3.Resource')) {
      throw new Error(`DiscoveryResponse.resources[${i}] is ${r.typeUrl} but type_url is ${typeUrl}`);
    }
  });
  return response;
}

/**
 * Decodes strictly (a typed Any if it has "@type", a DiscoveryResponse if it
 * has "resources", otherwise `typeUrl` is required) and asserts that no PGV
 * rule is violated. Returns the decoded message for further assertions.
 */
export function assertConformant(resourceOrResponse: unknown, typeUrl?: string): Message {
  const obj = (resourceOrResponse ?? {}) as Record<string, unknown>;
  let message: Message;
  if (typeUrl) message = decodeStrict(typeUrl, resourceOrResponse);
  else if (typeof obj['@type'] === 'string') message = decodeAny(obj as TypedResource);
  else if (Array.isArray(obj['resources'])) message = decodeDiscoveryResponse(resourceOrResponse);
  else throw new Error('assertConformant: pass a typed Any ("@type"), a DiscoveryResponse, or a typeUrl');
  const violations = validateRules(message);
  if (violations.length > 0) {
    throw new EnvoyConformanceError(
      `${message.$typeName} violates ${violations.length} Envoy validation rule(s):\n  ${violations.join('\n  ')}`,
      violations,
    );
  }
  return message;
}

// ---------------------------------------------------------------------------
// protoc-gen-validate rules.
//
// Rules are read from the `validate.rules` field option and converted to
// proto-JSON (snake_case keys, only explicitly-set rule fields present — PGV's
// validate.proto is proto2, so presence distinguishes `gte: 0` from "unset").
// 64-bit numbers arrive as strings and durations as "1.5s"; both are compared
// as JS numbers, which is exact for every bound Envoy declares.

type Num = number | string;
interface NumericRules {
  const?: Num;
  lt?: Num;
  lte?: Num;
  gt?: Num;
  gte?: Num;
  in?: Num[];
  not_in?: Num[];
  ignore_empty?: boolean;
}
interface StringRules {
  const?: string;
  len?: Num;
  min_len?: Num;
  max_len?: Num;
  len_bytes?: Num;
  min_bytes?: Num;
  max_bytes?: Num;
  pattern?: string;
  prefix?: string;
  suffix?: string;
  contains?: string;
  not_contains?: string;
  in?: string[];
  not_in?: string[];
  email?: boolean;
  hostname?: boolean;
  ip?: boolean;
  ipv4?: boolean;
  ipv6?: boolean;
  uri?: boolean;
  uri_ref?: boolean;
  address?: boolean;
  uuid?: boolean;
  well_known_regex?: 'UNKNOWN' | 'HTTP_HEADER_NAME' | 'HTTP_HEADER_VALUE';
  strict?: boolean;
  ignore_empty?: boolean;
}
interface FieldRules {
  message?: { skip?: boolean; required?: boolean };
  float?: NumericRules;
  double?: NumericRules;
  int32?: NumericRules;
  int64?: NumericRules;
  uint32?: NumericRules;
  uint64?: NumericRules;
  sint32?: NumericRules;
  sint64?: NumericRules;
  fixed32?: NumericRules;
  fixed64?: NumericRules;
  sfixed32?: NumericRules;
  sfixed64?: NumericRules;
  bool?: { const?: boolean };
  string?: StringRules;
  bytes?: { len?: Num; min_len?: Num; max_len?: Num; ignore_empty?: boolean };
  enum?: { const?: number; defined_only?: boolean; in?: number[]; not_in?: number[] };
  repeated?: { min_items?: Num; max_items?: Num; unique?: boolean; items?: FieldRules; ignore_empty?: boolean };
  map?: { min_pairs?: Num; max_pairs?: Num; no_sparse?: boolean; keys?: FieldRules; values?: FieldRules; ignore_empty?: boolean };
  any?: { required?: boolean; in?: string[]; not_in?: string[] };
  duration?: NumericRules & { required?: boolean };
  timestamp?: NumericRules & { required?: boolean };
}
const NUMERIC_KINDS = [
  'float', 'double', 'int32', 'int64', 'uint32', 'uint64', 'sint32', 'sint64',
  'fixed32', 'fixed64', 'sfixed32', 'sfixed64',
] as const;

const rulesCache = new WeakMap<DescField, FieldRules | null>();
/** Parsing options is not free (they are unknown fields on FieldOptions), so cache per field. */
function rulesOf(field: DescField): FieldRules | undefined {
  let rules = rulesCache.get(field);
  if (rules === undefined) {
    const s = envoySchema();
    rules = hasOption(field, s.fieldRules)
      ? (toJson(s.fieldRulesDesc, getOption(field, s.fieldRules) as Message, { useProtoFieldName: true }) as FieldRules)
      : null;
    rulesCache.set(field, rules);
  }
  return rules ?? undefined;
}

/**
 * Checks the PGV rules Envoy enforces when it accepts config, on `message` and
 * everything below it (nested messages, repeated, maps, Any contents). Returns
 * human-readable violations with a field path, e.g.
 * `Cluster.outlier_detection.max_ejection_percent: must be <= 100`.
 * Not covered: bytes pattern/prefix, timestamp lt_now/gt_now/within, uri_ref.
 */
export function validateRules(message: Message): string[] {
  const desc = envoySchema().registry.getMessage(message.$typeName);
  if (!desc) return [`${message.$typeName}: type not in Envoy schema`];
  const out: string[] = [];
  validateMessage(reflect(desc, message), desc.name, out);
  return out;
}

function validateMessage(r: ReflectMessage, at: string, out: string[]): void {
  const s = envoySchema();
  const desc = r.desc;
  if (desc.typeName === ANY) {
    const any = r.message as Any;
    if (!any.typeUrl) return;
    const inner = anyUnpack(any, s.registry);
    if (!inner) out.push(`${at}: unknown Any type ${any.typeUrl}`);
    else validateMessage(reflect(messageDescOf(inner), inner), `${at}(${inner.$typeName.split('.').pop()})`, out);
    return;
  }
  if (desc.file.name.startsWith('google/protobuf/')) return; // well-known types carry no rules
  if (hasOption(desc, s.messageDisabled) && getOption(desc, s.messageDisabled) === true) return;

  for (const oneof of desc.oneofs) {
    if (hasOption(oneof, s.oneofRequired) && getOption(oneof, s.oneofRequired) === true && !r.oneofCase(oneof)) {
      out.push(`${at}.${oneof.name}: exactly one of [${oneof.fields.map((f) => f.name).join(', ')}] is required`);
    }
  }
  for (const field of desc.fields) {
    if (field.oneof && !r.isSet(field)) continue; // rules apply to the selected oneof member only
    const rules = rulesOf(field);
    const fat = `${at}.${field.name}`;
    switch (field.fieldKind) {
      case 'scalar':
        if (rules) checkScalar(r.get(field), rules, fat, out);
        break;
      case 'enum':
        if (rules?.enum) checkEnum(r.get(field), field.enum.values.map((v) => v.number), rules.enum, fat, out);
        break;
      case 'message':
        checkMessageField(r, field, rules, fat, out);
        break;
      case 'list': {
        const list = r.get(field);
        const rep = rules?.repeated;
        if (rep && !(rep.ignore_empty && list.size === 0)) {
          if (rep.min_items !== undefined && list.size < Number(rep.min_items)) out.push(`${fat}: must have at least ${rep.min_items} item(s)`);
          if (rep.max_items !== undefined && list.size > Number(rep.max_items)) out.push(`${fat}: must have at most ${rep.max_items} item(s)`);
          if (rep.unique && field.listKind !== 'message') {
            const seen = new Set([...list].map(scalarKey));
            if (seen.size !== list.size) out.push(`${fat}: items must be unique`);
          }
        }
        let i = 0;
        for (const item of list) {
          const iat = `${fat}[${i++}]`;
          if (field.listKind === 'message') validateMessage(item as ReflectMessage, iat, out);
          else if (rep?.items && field.listKind === 'enum' && rep.items.enum) checkEnum(item as number, field.enum.values.map((v) => v.number), rep.items.enum, iat, out);
          else if (rep?.items) checkScalar(item, rep.items, iat, out);
        }
        break;
      }
      case 'map': {
        const map = r.get(field);
        const mr = rules?.map;
        if (mr && !(mr.ignore_empty && map.size === 0)) {
          if (mr.min_pairs !== undefined && map.size < Number(mr.min_pairs)) out.push(`${fat}: must have at least ${mr.min_pairs} entr(y/ies)`);
          if (mr.max_pairs !== undefined && map.size > Number(mr.max_pairs)) out.push(`${fat}: must have at most ${mr.max_pairs} entr(y/ies)`);
        }
        for (const [key, value] of map) {
          const kat = `${fat}[${JSON.stringify(String(key))}]`;
          if (mr?.keys) checkScalar(key, mr.keys, `${kat}<key>`, out);
          if (field.mapKind === 'message') validateMessage(value as ReflectMessage, kat, out);
          else if (mr?.values) checkScalar(value, mr.values, kat, out);
        }
        break;
      }
    }
  }
}

function messageDescOf(m: Message): DescMessage {
  const d = envoySchema().registry.getMessage(m.$typeName);
  if (!d) throw new Error(`type ${m.$typeName} not in Envoy schema`);
  return d;
}

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));

function checkMessageField(r: ReflectMessage, field: DescField & { fieldKind: 'message' }, rules: FieldRules | undefined, at: string, out: string[]): void {
  const set = r.isSet(field);
  const type = field.message.typeName;
  if ((rules?.message?.required || rules?.any?.required || rules?.duration?.required || rules?.timestamp?.required) && !set) {
    out.push(`${at}: is required`);
  }
  if (!set) return;
  const value = r.get(field);
  if (WRAPPERS.has(type)) {
    // PGV applies the scalar rules to the wrapped value, only when the wrapper is present.
    const inner = field.message.fields[0];
    if (rules && inner) checkScalar(value.get(inner), rules, at, out);
    return;
  }
  if (type === 'google.protobuf.Duration' && rules?.duration) {
    checkNumeric(durationSeconds(value), rules.duration, at, out, (n) => `${n}s`);
  } else if (type === 'google.protobuf.Timestamp' && rules?.timestamp) {
    checkNumeric(durationSeconds(value), rules.timestamp, at, out, (n) => new Date(n * 1000).toISOString());
  } else if (type === ANY && rules?.any) {
    const url = (value.message as Any).typeUrl;
    if (rules.any.in && !rules.any.in.includes(url)) out.push(`${at}: type must be one of ${JSON.stringify(rules.any.in)}`);
    if (rules.any.not_in?.includes(url)) out.push(`${at}: type must not be ${url}`);
  }
  if (!rules?.message?.skip) validateMessage(value, at, out);
}

/** Duration/Timestamp as (fractional) seconds; `seconds` is int64 so it arrives as bigint. */
function durationSeconds(m: ReflectMessage): number {
  const { seconds, nanos } = m.message as Message & { seconds: bigint; nanos: number };
  return Number(seconds) + nanos / 1e9;
}

/** Rule bounds: numbers, 64-bit strings, or proto-JSON durations ("1.5s") / timestamps. */
function num(v: Num): number {
  if (typeof v === 'number') return v;
  if (v.endsWith('s') && !v.includes('T')) return Number(v.slice(0, -1));
  const n = Number(v);
  return Number.isNaN(n) ? Date.parse(v) / 1000 : n;
}

function checkNumeric(value: number, r: NumericRules, at: string, out: string[], fmt: (n: number) => string = String): void {
  if (r.ignore_empty && value === 0) return;
  if (r.const !== undefined && value !== num(r.const)) out.push(`${at}: must equal ${fmt(num(r.const))}`);
  const lower = r.gt !== undefined ? { v: num(r.gt), ok: value > num(r.gt), s: `> ${fmt(num(r.gt))}` }
    : r.gte !== undefined ? { v: num(r.gte), ok: value >= num(r.gte), s: `>= ${fmt(num(r.gte))}` } : undefined;
  const upper = r.lt !== undefined ? { v: num(r.lt), ok: value < num(r.lt), s: `< ${fmt(num(r.lt))}` }
    : r.lte !== undefined ? { v: num(r.lte), ok: value <= num(r.lte), s: `<= ${fmt(num(r.lte))}` } : undefined;
  if (lower && upper && lower.v >= upper.v) {
    // PGV: a lower bound above the upper bound means "outside the range".
    if (!lower.ok && !upper.ok) out.push(`${at}: must be ${lower.s} or ${upper.s}`);
  } else {
    if (lower && !lower.ok) out.push(`${at}: must be ${lower.s}`);
    if (upper && !upper.ok) out.push(`${at}: must be ${upper.s}`);
  }
  if (r.in && !r.in.map(num).includes(value)) out.push(`${at}: must be one of [${r.in.map((n) => fmt(num(n))).join(', ')}]`);
  if (r.not_in?.map(num).includes(value)) out.push(`${at}: must not be ${fmt(value)}`);
}

function checkEnum(value: number, defined: number[], r: NonNullable<FieldRules['enum']>, at: string, out: string[]): void {
  if (r.defined_only && !defined.includes(value)) out.push(`${at}: ${value} is not a defined enum value`);
  if (r.const !== undefined && value !== r.const) out.push(`${at}: must equal ${r.const}`);
  if (r.in && !r.in.includes(value)) out.push(`${at}: must be one of [${r.in.join(', ')}]`);
  if (r.not_in?.includes(value)) out.push(`${at}: must not be ${value}`);
}

function checkScalar(value: unknown, rules: FieldRules, at: string, out: string[]): void {
  if (typeof value === 'string') {
    if (rules.string) checkString(value, rules.string, at, out);
  } else if (typeof value === 'number' || typeof value === 'bigint') {
    for (const kind of NUMERIC_KINDS) {
      const r = rules[kind];
      if (r) checkNumeric(Number(value), r, at, out);
    }
  } else if (typeof value === 'boolean') {
    if (rules.bool?.const !== undefined && value !== rules.bool.const) out.push(`${at}: must be ${rules.bool.const}`);
  } else if (value instanceof Uint8Array && rules.bytes) {
    const b = rules.bytes;
    if (b.ignore_empty && value.length === 0) return;
    if (b.len !== undefined && value.length !== Number(b.len)) out.push(`${at}: must be exactly ${b.len} bytes`);
    if (b.min_len !== undefined && value.length < Number(b.min_len)) out.push(`${at}: must be at least ${b.min_len} bytes`);
    if (b.max_len !== undefined && value.length > Number(b.max_len)) out.push(`${at}: must be at most ${b.max_len} bytes`);
  }
}

// PGV's well-known header regexes (strict unless `strict: false`); control characters are the point.
const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
// eslint-disable-next-line no-control-regex
const HEADER_VALUE = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
// eslint-disable-next-line no-control-regex
const HEADER_LOOSE = /^[^\u0000\u000A\u000D]*$/;
const HOSTNAME = /^(?=.{1,253}\.?$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*\.?$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
const patternCache = new Map<string, RegExp | null>();

function checkString(value: string, r: StringRules, at: string, out: string[]): void {
  if (r.ignore_empty && value === '') return;
  const chars = [...value].length; // PGV counts code points, not UTF-16 units
  const bytes = Buffer.byteLength(value, 'utf8');
  const fail = (msg: string): void => void out.push(`${at}: ${msg}`);
  if (r.const !== undefined && value !== r.const) fail(`must equal ${JSON.stringify(r.const)}`);
  if (r.len !== undefined && chars !== Number(r.len)) fail(`must be exactly ${r.len} characters`);
  if (r.min_len !== undefined && chars < Number(r.min_len)) fail(value === '' ? 'must not be empty' : `must be at least ${r.min_len} characters`);
  if (r.max_len !== undefined && chars > Number(r.max_len)) fail(`must be at most ${r.max_len} characters`);
  if (r.len_bytes !== undefined && bytes !== Number(r.len_bytes)) fail(`must be exactly ${r.len_bytes} bytes`);
  if (r.min_bytes !== undefined && bytes < Number(r.min_bytes)) fail(value === '' ? 'must not be empty' : `must be at least ${r.min_bytes} bytes`);
  if (r.max_bytes !== undefined && bytes > Number(r.max_bytes)) fail(`must be at most ${r.max_bytes} bytes`);
  if (r.prefix !== undefined && !value.startsWith(r.prefix)) fail(`must start with ${JSON.stringify(r.prefix)}`);
  if (r.suffix !== undefined && !value.endsWith(r.suffix)) fail(`must end with ${JSON.stringify(r.suffix)}`);
  if (r.contains !== undefined && !value.includes(r.contains)) fail(`must contain ${JSON.stringify(r.contains)}`);
  if (r.not_contains !== undefined && value.includes(r.not_contains)) fail(`must not contain ${JSON.stringify(r.not_contains)}`);
  if (r.in && !r.in.includes(value)) fail(`must be one of ${JSON.stringify(r.in)}`);
  if (r.not_in?.includes(value)) fail(`must not be ${JSON.stringify(value)}`);
  if (r.pattern !== undefined) {
    // RE2 syntax; the few patterns Envoy uses are valid JS. Skip any that are not.
    let re = patternCache.get(r.pattern);
    if (re === undefined) {
      try {
        re = new RegExp(r.pattern);
      } catch {
        re = null;
      }
      patternCache.set(r.pattern, re);
    }
    if (re && !re.test(value)) fail(`must match /${r.pattern}/`);
  }
  if (r.well_known_regex === 'HTTP_HEADER_NAME' && !(r.strict === false ? HEADER_LOOSE : HEADER_NAME).test(value)) fail('must be a valid HTTP header name');
  if (r.well_known_regex === 'HTTP_HEADER_VALUE' && !(r.strict === false ? HEADER_LOOSE : HEADER_VALUE).test(value)) fail('must be a valid HTTP header value');
  if (r.hostname && !HOSTNAME.test(value)) fail('must be a valid hostname');
  if (r.ip && isIP(value) === 0) fail('must be a valid IP address');
  if (r.ipv4 && isIP(value) !== 4) fail('must be a valid IPv4 address');
  if (r.ipv6 && isIP(value) !== 6) fail('must be a valid IPv6 address');
  if (r.address && isIP(value) === 0 && !HOSTNAME.test(value)) fail('must be a valid hostname or IP address');
  if (r.uuid && !UUID.test(value)) fail('must be a valid UUID');
  if (r.email && !EMAIL.test(value)) fail('must be a valid email address');
  if (r.uri && !URL.canParse(value)) fail('must be an absolute URI');
}

function scalarKey(v: unknown): string {
  return v instanceof Uint8Array ? Buffer.from(v).toString('hex') : `${typeof v}:${String(v)}`;
}

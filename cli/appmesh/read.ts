/**
 * Reading App Mesh definitions into one shape: the JSON of `aws appmesh describe-*` calls (one
 * output, an array of them, or lists such as `{"virtualNodes": [...]}` whose items carry their
 * `spec`), or a CloudFormation template with `AWS::AppMesh::*` resources, whose PascalCase
 * properties are the API's camelCase fields.
 */

export type Json = Record<string, unknown>;

/** Unsupported is a part of the App Mesh configuration with no equivalent here, and where it was. */
export interface Unsupported {
  readonly at: string;
  readonly what: string;
}

export type Kind = 'virtualNode' | 'virtualService' | 'virtualRouter' | 'route' | 'virtualGateway' | 'gatewayRoute' | 'mesh';

/** AppMeshResource is one resource as the API describes it, with where it was found. */
export interface AppMeshResource {
  readonly kind: Kind;
  /** virtualNodeName, virtualServiceName, virtualRouterName, routeName, ... */
  readonly name: string;
  /** For a route: its virtual router. */
  readonly router?: string;
  /** For a gateway route: its virtual gateway. */
  readonly gateway?: string;
  readonly spec: Json;
  /** Where it was found, for the report: `virtualNodes[2]`, `Resources.ServiceBNode`. */
  readonly at: string;
}

export interface ReadResult {
  readonly resources: AppMeshResource[];
  /** What could not be read, by location. */
  readonly skipped: { readonly at: string; readonly reason: string }[];
}

const kinds: Readonly<Record<string, Kind>> = {
  virtualNode: 'virtualNode',
  virtualService: 'virtualService',
  virtualRouter: 'virtualRouter',
  route: 'route',
  virtualGateway: 'virtualGateway',
  gatewayRoute: 'gatewayRoute',
  mesh: 'mesh',
};
const listKeys: Readonly<Record<string, Kind>> = {
  virtualNodes: 'virtualNode',
  virtualServices: 'virtualService',
  virtualRouters: 'virtualRouter',
  routes: 'route',
  virtualGateways: 'virtualGateway',
  gatewayRoutes: 'gatewayRoute',
  meshes: 'mesh',
};
const cfnTypes: Readonly<Record<string, Kind>> = {
  'AWS::AppMesh::VirtualNode': 'virtualNode',
  'AWS::AppMesh::VirtualService': 'virtualService',
  'AWS::AppMesh::VirtualRouter': 'virtualRouter',
  'AWS::AppMesh::Route': 'route',
  'AWS::AppMesh::VirtualGateway': 'virtualGateway',
  'AWS::AppMesh::GatewayRoute': 'gatewayRoute',
  'AWS::AppMesh::Mesh': 'mesh',
};

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** readAppMesh finds every App Mesh resource in a parsed document. */
export function readAppMesh(doc: unknown): ReadResult {
  const out: ReadResult = { resources: [], skipped: [] };
  if (isObject(doc) && isObject(doc.Resources)) readTemplate(doc.Resources, out);
  else visit(doc, '', out);
  return out;
}

function visit(value: unknown, at: string, out: ReadResult): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => visit(v, `${at}[${i}]`, out));
    return;
  }
  if (!isObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const where = at ? `${at}.${key}` : key;
    if (kinds[key] && isObject(v)) add(kinds[key]!, v, where, out);
    else if (listKeys[key] && Array.isArray(v)) v.forEach((item, i) => (isObject(item) ? add(listKeys[key]!, item, `${where}[${i}]`, out) : undefined));
  }
}

function add(kind: Kind, item: Json, at: string, out: ReadResult): void {
  const nameKey = kind === 'mesh' ? 'meshName' : `${kind}Name`;
  const name = item[nameKey];
  if (typeof name !== 'string') {
    out.skipped.push({ at, reason: `no ${nameKey}` });
    return;
  }
  if (!isObject(item.spec)) {
    out.skipped.push({ at, reason: `${kind} "${name}" has no spec: a list-* output names resources only; use the describe-* output` });
    return;
  }
  const router = item.virtualRouterName;
  const gateway = item.virtualGatewayName;
  out.resources.push({
    kind,
    name,
    ...(typeof router === 'string' && kind === 'route' ? { router } : {}),
    ...(typeof gateway === 'string' && kind === 'gatewayRoute' ? { gateway } : {}),
    spec: item.spec,
    at,
  });
}

function readTemplate(resources: Json, out: ReadResult): void {
  for (const [id, raw] of Object.entries(resources)) {
    if (!isObject(raw) || typeof raw.Type !== 'string' || !raw.Type.startsWith('AWS::AppMesh::')) continue;
    const kind = cfnTypes[raw.Type];
    const at = `Resources.${id}`;
    if (!kind) {
      out.skipped.push({ at, reason: `${raw.Type} is not an App Mesh resource type this importer knows` });
      continue;
    }
    const props = camel(raw.Properties ?? {}) as Json;
    const nameKey = kind === 'mesh' ? 'meshName' : `${kind}Name`;
    if (kind === 'mesh' && typeof props.meshName !== 'string') props.meshName = '(template mesh)'; // its name matters to nothing here
    if (typeof props[nameKey] !== 'string') {
      out.skipped.push({ at, reason: `${nameKey} is not a literal string (an intrinsic function such as Ref cannot be resolved offline)` });
      continue;
    }
    add(kind, props, at, out);
  }
}

/** CloudFormation spells some acronyms in capitals where the API has lowercase words. */
const cfnKeys: Readonly<Record<string, string>> = { DNS: 'dns', AWSCloudMap: 'awsCloudMap', TLS: 'tls', HTTP: 'http', HTTP2: 'http2', GRPC: 'grpc', TCP: 'tcp', ACM: 'acm', SDS: 'sds' };

/** camel turns a CloudFormation property tree into the API's field names. */
function camel(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camel);
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [cfnKeys[k] ?? (/^[A-Z]/.test(k) && !k.includes('::') ? k[0]!.toLowerCase() + k.slice(1) : k), camel(v)]),
  );
}

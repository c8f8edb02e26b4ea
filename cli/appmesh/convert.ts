import { ServiceSpecInput } from '../../shared/model/spec';
import { re2Problem } from '../../shared/model/re2';
import { AppMeshResource, Json, Unsupported } from './read';
import { convertGateways } from './gateway';

/**
 * (Over 350 lines on purpose: one mapping of App Mesh's objects onto the spec, read top to
 * bottom beside the correspondence below; its parts are small functions that only make sense together.)
 *
 * Turning App Mesh resources into our service specs. The correspondence:
 *
 * - a virtual service (`serviceb.apps.local`) becomes a service (`serviceb`), whose port and
 *   protocol are its provider's listener's (the virtual node's, or the virtual router's);
 *   a virtual node that provides no virtual service becomes a service of its own name;
 * - virtual nodes behind a router are versions of one service: its endpoints' subsets, told
 *   apart by the ECS task definition family (Cloud Map's `ECS_TASK_DEFINITION_FAMILY`
 *   attribute, or the node's name), which our ECS events label every endpoint with;
 * - a node's backends become its service's dependencies, reached at 127.0.0.1:localPort;
 * - the provider's listener health check, outlier detection and connection pool become each
 *   caller's healthCheck, outlierDetection and circuitBreakers for that dependency; its
 *   timeouts become the inbound timeouts;
 * - the router's catch-all route gives each caller's split (weighted targets), retries and
 *   timeout; routes on an exact header value give header routes, and routes with any other
 *   match (path prefix, exact or regex path, method, headers, query parameters, gRPC service
 *   and method) give `routes[]`, with their own targets, retries and timeout; when one route
 *   needs `routes[]`, they all go there, in App Mesh's priority order.
 *
 * - a virtual gateway becomes a spec of kind "gateway", its gateway routes its routes (gateway.ts).
 *
 * What has no equivalent (scheme, port, suffix and range matches, regexes RE2 refuses,
 * DNS and Cloud Map discovery, TLS certificates) is reported with where it was.
 */

export type { Unsupported } from './read';

export interface Conversion {
  readonly specs: ServiceSpecInput[];
  /** What was not carried over, with where it was in the input. */
  readonly unsupported: Unsupported[];
  /** Choices made that an operator should know about (ports assigned, labels assumed). */
  readonly notes: string[];
}

interface Member {
  readonly node: AppMeshResource;
  /** The endpoint labels that select this node's instances. */
  readonly labels: Record<string, string>;
}

interface Planned {
  name: string;
  provider: AppMeshResource;
  members: Member[];
  listener?: Json;
  /** For router-provided services: the router's routes, by priority. */
  routes: AppMeshResource[];
}

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** serviceNameOf makes a DNS label of an App Mesh name: the first label of a DNS name, lowercased. */
export function serviceNameOf(name: string): string {
  const label = name.split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return (label || 'service').slice(0, 63).replace(/-+$/, '');
}

/** millis reads an App Mesh duration (`{ unit: "s" | "ms", value }`). */
function millis(d: unknown): number | undefined {
  const { unit, value } = obj(d);
  if (typeof value !== 'number') return undefined;
  return unit === 's' ? value * 1000 : unit === 'ms' ? value : undefined;
}

const protocols: Readonly<Record<string, ServiceSpecInput['protocol']>> = { http: 'http', http2: 'http2', grpc: 'grpc', tcp: 'tcp' };
const routeKinds = ['httpRoute', 'http2Route', 'grpcRoute', 'tcpRoute'] as const;

/** convertAppMesh turns the resources of one mesh into specs and a report. */
export function convertAppMesh(resources: readonly AppMeshResource[]): Conversion {
  const unsupported: Unsupported[] = [];
  const notes: string[] = [];
  const of = (kind: AppMeshResource['kind']) => resources.filter((r) => r.kind === kind);
  const nodes = new Map(of('virtualNode').map((n) => [n.name, n]));
  const routers = new Map(of('virtualRouter').map((r) => [r.name, r]));
  for (const m of of('mesh')) {
    if (obj(obj(m.spec).egressFilter).type === 'ALLOW_ALL') {
      notes.push('egressFilter ALLOW_ALL: set egress "allow-all" on the ControlPlane; it acts only where sidecars intercept traffic (docs/rendering.md, "Egress")');
    }
  }

  // Services: one per virtual service, then one per virtual node no virtual service provides.
  const planned = new Map<string, Planned>();
  const ownerOfNode = new Map<string, string>();
  const serviceOfVirtualService = new Map<string, string>();
  for (const vs of of('virtualService')) {
    const provider = obj(obj(vs.spec).provider);
    const nodeName = str(obj(provider.virtualNode).virtualNodeName);
    const routerName = str(obj(provider.virtualRouter).virtualRouterName);
    const name = uniqueName(serviceNameOf(vs.name), planned);
    serviceOfVirtualService.set(vs.name, name);
    if (nodeName && nodes.has(nodeName)) {
      planned.set(name, { name, provider: nodes.get(nodeName)!, members: [], routes: [] });
      ownerOfNode.set(nodeName, name);
    } else if (routerName && routers.has(routerName)) {
      const routes = of('route')
        .filter((r) => r.router === routerName)
        .sort((a, b) => priority(a) - priority(b) || (a.name < b.name ? -1 : 1));
      planned.set(name, { name, provider: routers.get(routerName)!, members: [], routes });
      for (const route of routes) for (const t of targetsOf(route)) if (!ownerOfNode.has(t.node) && nodes.has(t.node)) ownerOfNode.set(t.node, name);
    } else {
      serviceOfVirtualService.delete(vs.name);
      planned.delete(name);
      unsupported.push({ at: vs.at, what: `virtual service "${vs.name}": its provider (${nodeName ?? routerName ?? 'none'}) is not among the definitions read` });
    }
  }
  for (const node of nodes.values()) {
    if (ownerOfNode.has(node.name)) continue;
    const name = uniqueName(serviceNameOf(node.name), planned);
    planned.set(name, { name, provider: node, members: [], routes: [] });
    ownerOfNode.set(node.name, name);
  }
  for (const [nodeName, service] of ownerOfNode) {
    const node = nodes.get(nodeName)!;
    planned.get(service)!.members.push({ node, labels: labelsOf(node, planned.get(service)!, notes) });
  }

  const specs: ServiceSpecInput[] = [];
  for (const p of [...planned.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const listeners = arr(obj(p.provider.spec).listeners).map(obj);
    const listener = listeners[0];
    listeners.slice(1).forEach((_, i) => unsupported.push({ at: `${p.provider.at}.spec.listeners[${i + 1}]`, what: 'a second listener: a service has one inbound port' }));
    if (!listener) {
      unsupported.push({ at: p.provider.at, what: `${p.provider.kind} "${p.provider.name}" has no listener: service "${p.name}" was not imported` });
      continue;
    }
    p.listener = p.provider.kind === 'virtualNode' ? listener : versionListener(p, unsupported) ?? listener;
    const mapping = obj(listener.portMapping);
    const protocol = protocols[str(mapping.protocol) ?? ''] ?? 'http';
    const appPort = typeof mapping.port === 'number' ? mapping.port : 8080;
    const inboundPort = appPort === 15000 ? 15001 : 15000;
    const timeout = obj(obj(p.listener.timeout)[protocol]);
    const inboundTimeoutMs = millis(timeout.perRequest);
    const inboundIdleMs = millis(timeout.idle);
    specs.push({
      name: p.name,
      inboundPort,
      appPort,
      protocol,
      ...(inboundTimeoutMs !== undefined || inboundIdleMs !== undefined
        ? { inbound: { ...(inboundTimeoutMs !== undefined ? { timeoutMs: inboundTimeoutMs } : {}), ...(inboundIdleMs !== undefined ? { idleTimeoutMs: inboundIdleMs } : {}) } }
        : {}),
    });
    for (const m of p.members) reportNode(m.node, unsupported);
  }
  notes.push(
    'inboundPort is 15000 (15001 where the app already uses 15000): App Mesh intercepted traffic transparently, our Envoys listen on inboundPort',
    'dependencies are reached at 127.0.0.1:localPort (assigned from 9001): point each app at these instead of the virtual service DNS names',
  );

  // Dependencies: each member's backends, with the provider's policy for its callers.
  for (const spec of specs) {
    const p = planned.get(spec.name)!;
    const backends = [...new Set(p.members.flatMap((m) => arr(obj(m.node.spec).backends).map((b) => str(obj(obj(b).virtualService).virtualServiceName) ?? '')))].filter(Boolean).sort();
    let localPort = 9001;
    const dependencies: NonNullable<ServiceSpecInput['dependencies']> = [];
    for (const vsName of backends) {
      const target = serviceOfVirtualService.get(vsName);
      if (!target || !specs.some((s) => s.name === target)) {
        unsupported.push({ at: p.members[0]!.node.at, what: `backend "${vsName}" is not a virtual service among the definitions read` });
        continue;
      }
      while ([spec.appPort, spec.inboundPort].includes(localPort)) localPort++;
      dependencies.push({ service: target, localPort: localPort++, ...policyTowards(planned.get(target)!, unsupported) });
    }
    if (dependencies.length > 0) (spec as { dependencies?: unknown }).dependencies = dependencies;
  }
  const taken = new Set(specs.map((s) => s.name));
  specs.push(...convertGateways(of('virtualGateway'), of('gatewayRoute'), { serviceOfVirtualService, taken, unsupported, notes, nameOf: serviceNameOf }));
  return { specs, unsupported: dedupe(unsupported), notes };
}

/** dedupe keeps each reported item once (a route is checked for every caller), ordered by where it was. */
function dedupe(items: readonly Unsupported[]): Unsupported[] {
  const key = (u: Unsupported) => u.at.replace(/\d+/g, (n) => n.padStart(6, '0'));
  const seen = new Map(items.map((u) => [`${u.at}\u0000${u.what}`, u]));
  return [...seen.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/**
 * versionListener picks, for a service of several versions, the listener whose policy (health
 * check, outlier detection, connection pool, timeouts) its callers get: the first version by
 * name that declares any. Versions that declare another policy are reported.
 */
function versionListener(p: Planned, unsupported: Unsupported[]): Json | undefined {
  const policyKeys = ['healthCheck', 'outlierDetection', 'connectionPool', 'timeout'];
  const listeners = [...p.members]
    .sort((a, b) => (a.node.name < b.node.name ? -1 : 1))
    .map((m) => ({ node: m.node, listener: arr(obj(m.node.spec).listeners).map(obj)[0] ?? {} }));
  const policyOf = (l: Json) => JSON.stringify(policyKeys.map((k) => l[k] ?? null));
  const chosen = listeners.find((l) => policyKeys.some((k) => l.listener[k] !== undefined)) ?? listeners[0];
  for (const other of listeners) {
    if (chosen && other !== chosen && policyOf(other.listener) !== policyOf(chosen.listener)) {
      unsupported.push({ at: `${other.node.at}.spec.listeners[0]`, what: `a listener policy unlike "${chosen.node.name}"'s: the versions of "${p.name}" share one policy, "${chosen.node.name}"'s` });
    }
  }
  return chosen?.listener;
}

function uniqueName(name: string, taken: ReadonlyMap<string, unknown>): string {
  if (!taken.has(name)) return name;
  for (let i = 2; ; i++) if (!taken.has(`${name}-${i}`)) return `${name}-${i}`;
}

function priority(route: AppMeshResource): number {
  const spec = obj(route.spec);
  return typeof spec.priority === 'number' ? spec.priority : 1001;
}

function targetsOf(route: AppMeshResource): { node: string; weight: number }[] {
  const spec = obj(route.spec);
  const kind = routeKinds.find((k) => spec[k] !== undefined);
  if (!kind) return [];
  return arr(obj(obj(spec[kind]).action).weightedTargets).map((t) => ({ node: str(obj(t).virtualNode) ?? '', weight: Number(obj(t).weight ?? 0) }));
}

/** labelsOf chooses the endpoint labels that select a node's instances among its service's. */
function labelsOf(node: AppMeshResource, service: Planned, notes: string[]): Record<string, string> {
  const cloudMap = obj(obj(obj(node.spec).serviceDiscovery).awsCloudMap);
  const family = arr(cloudMap.attributes).map(obj).find((a) => a.key === 'ECS_TASK_DEFINITION_FAMILY');
  if (typeof family?.value === 'string') return { family: family.value };
  if (service.provider.kind === 'virtualRouter') {
    notes.push(`the endpoints of virtual node "${node.name}" are assumed to be ECS tasks of task definition family "${node.name}" (label family=${node.name})`);
  }
  return { family: node.name };
}

/** reportNode lists what a virtual node declares that has no equivalent. */
function reportNode(node: AppMeshResource, unsupported: Unsupported[]): void {
  const spec = obj(node.spec);
  const sd = obj(spec.serviceDiscovery);
  if (sd.dns) {
    unsupported.push({ at: `${node.at}.spec.serviceDiscovery.dns`, what: `DNS discovery (${str(obj(sd.dns).hostname) ?? '?'}): endpoints come from ECS and EC2 lifecycle events (ECS service name, or the mesh:service tag)` });
  }
  if (sd.awsCloudMap) {
    const cm = obj(sd.awsCloudMap);
    unsupported.push({ at: `${node.at}.spec.serviceDiscovery.awsCloudMap`, what: `Cloud Map discovery (${str(cm.serviceName) ?? '?'}.${str(cm.namespaceName) ?? '?'}): endpoints come from ECS and EC2 lifecycle events; set ecs.serviceName if the ECS service is named otherwise` });
  }
  arr(spec.listeners).forEach((l, i) => {
    if (obj(l).tls) unsupported.push({ at: `${node.at}.spec.listeners[${i}].tls`, what: "listener TLS certificates: replaced by the mesh CA's mTLS (on by default)" });
  });
  if (spec.backendDefaults) unsupported.push({ at: `${node.at}.spec.backendDefaults`, what: "client TLS policy: replaced by the mesh CA's mTLS" });
  arr(spec.backends).forEach((b, i) => {
    if (obj(obj(b).virtualService).clientPolicy) unsupported.push({ at: `${node.at}.spec.backends[${i}].virtualService.clientPolicy`, what: "client TLS policy: replaced by the mesh CA's mTLS" });
  });
}

/** policyTowards is what every caller of a service gets for it: the provider's listener policy and the router's routes. */
function policyTowards(target: Planned, unsupported: Unsupported[]): Partial<NonNullable<ServiceSpecInput['dependencies']>[number]> {
  const listener = target.listener ?? {};
  const protocol = protocols[str(obj(listener.portMapping).protocol) ?? ''] ?? 'http';
  const policy: Record<string, unknown> = {};
  const hc = obj(listener.healthCheck);
  if (Object.keys(hc).length > 0) {
    const check: Record<string, unknown> = {};
    if (hc.protocol === 'http' || hc.protocol === 'http2') {
      if (protocol === 'http' || protocol === 'http2') check.path = str(hc.path) ?? '/';
    }
    if (hc.protocol === 'grpc' && protocol === 'grpc') check.grpcServiceName = '';
    if (typeof hc.intervalMillis === 'number') check.intervalMs = hc.intervalMillis;
    if (typeof hc.timeoutMillis === 'number') check.timeoutMs = hc.timeoutMillis;
    if (typeof hc.healthyThreshold === 'number') check.healthyThreshold = hc.healthyThreshold;
    if (typeof hc.unhealthyThreshold === 'number') check.unhealthyThreshold = hc.unhealthyThreshold;
    policy.healthCheck = check;
  }
  const od = obj(listener.outlierDetection);
  if (Object.keys(od).length > 0) {
    policy.outlierDetection = {
      ...(typeof od.maxServerErrors === 'number' ? { consecutive5xx: od.maxServerErrors } : {}),
      ...(millis(od.interval) !== undefined ? { intervalMs: millis(od.interval) } : {}),
      ...(millis(od.baseEjectionDuration) !== undefined ? { baseEjectionTimeMs: millis(od.baseEjectionDuration) } : {}),
      ...(typeof od.maxEjectionPercent === 'number' ? { maxEjectionPercent: od.maxEjectionPercent } : {}),
    };
  }
  const pool = obj(obj(listener.connectionPool)[protocol]);
  if (Object.keys(pool).length > 0) {
    policy.circuitBreakers = {
      ...(typeof pool.maxConnections === 'number' ? { maxConnections: pool.maxConnections } : {}),
      ...(typeof pool.maxPendingRequests === 'number' ? { maxPendingRequests: pool.maxPendingRequests } : {}),
      ...(typeof pool.maxRequests === 'number' ? { maxRequests: pool.maxRequests } : {}),
    };
  }
  if (target.provider.kind !== 'virtualRouter') return policy;

  const versions = target.members.length;
  const labelsOfNode = new Map(target.members.map((m) => [m.node.name, m.labels]));
  // Routes with conditions, by priority. Each exact-header route also has the headerRoutes form;
  // when every one has it, headerRoutes are kept, otherwise all go to routes[], in App Mesh's order.
  const matched: { route: Record<string, unknown>; headerRoute?: { header: string; exact: string; subset: Record<string, string> } }[] = [];
  let catchAll = false;
  for (const route of target.routes) {
    const spec = obj(route.spec);
    const kind = routeKinds.find((k) => spec[k] !== undefined);
    if (!kind) continue;
    const body = obj(spec[kind]);
    const at = `${route.at}.spec.${kind}.match`;
    const conditions = kind === 'tcpRoute' ? { match: {}, unsupported: [] } : matchOf(kind, obj(body.match));
    const targets = targetsOf(route).filter((t) => t.weight > 0);
    if (conditions.unsupported.length > 0) {
      unsupported.push({ at, what: `route "${route.name}" not imported: ${conditions.unsupported.join(', ')} has no equivalent` });
      continue;
    }
    if (Object.keys(conditions.match).length > 0) {
      if (targets.length === 0 || targets.some((t) => !labelsOfNode.has(t.node))) {
        unsupported.push({ at: `${route.at}.spec.${kind}.action`, what: `route "${route.name}": its targets are not versions of "${target.name}"` });
        continue;
      }
      const total = targets.reduce((n, t) => n + t.weight, 0);
      const goesTo: { subset: Record<string, string> } | { split: Record<string, unknown> } =
        targets.length === 1
          ? { subset: labelsOfNode.get(targets[0]!.node)! }
          : { split: { ...(total !== 100 ? { total } : {}), subsets: targets.map((t) => ({ labels: labelsOfNode.get(t.node)!, weight: t.weight })) } };
      const retry = obj(body.retryPolicy);
      const perRequest = millis(obj(body.timeout).perRequest);
      const entry = {
        match: conditions.match,
        ...goesTo,
        ...(perRequest !== undefined ? { timeoutMs: perRequest } : {}),
        ...(Object.keys(retry).length > 0 ? { retries: retriesOf(retry, route, kind, unsupported) } : {}),
      };
      const headers = (conditions.match.headers ?? []) as { name: string; exact?: string; invert?: boolean }[];
      const onlyHeader = Object.keys(conditions.match).length === 1 && headers.length === 1 && headers[0]!.exact !== undefined && !headers[0]!.invert;
      const simple = onlyHeader && 'subset' in goesTo && Object.keys(entry).length === 2;
      matched.push({ route: entry, ...(simple ? { headerRoute: { header: headers[0]!.name, exact: headers[0]!.exact!, subset: goesTo.subset } } : {}) });
      continue;
    }
    if (catchAll) {
      unsupported.push({ at, what: `route "${route.name}": a second catch-all route is never reached` });
      continue;
    }
    catchAll = true;
    if (targets.length > 0 && (versions > 1 || targets.length > 1)) {
      const total = targets.reduce((n, t) => n + t.weight, 0);
      policy.split = { ...(total !== 100 ? { total } : {}), subsets: targets.map((t) => ({ labels: labelsOfNode.get(t.node) ?? { family: t.node }, weight: t.weight })) };
    }
    const retry = obj(body.retryPolicy);
    if (Object.keys(retry).length > 0 && protocol !== 'tcp') policy.retries = retriesOf(retry, route, kind, unsupported);
    const timeout = obj(body.timeout);
    if (millis(timeout.perRequest) !== undefined && protocol !== 'tcp') policy.timeoutMs = millis(timeout.perRequest);
    if (millis(timeout.idle) !== undefined) policy.idleTimeoutMs = millis(timeout.idle);
  }
  if (matched.length > 0 && protocol !== 'tcp') {
    if (matched.every((m) => m.headerRoute)) policy.headerRoutes = matched.map((m) => m.headerRoute!);
    else policy.routes = matched.map((m) => m.route);
  }
  return policy;
}

const httpMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);

/** valueMatchOf turns an App Mesh header or query match into the spec's, or says why it cannot. */
function valueMatchOf(m: Json, what: string): { match?: Record<string, unknown>; unsupported?: string } {
  if (m.exact !== undefined) return { match: { exact: String(m.exact) } };
  if (m.prefix !== undefined) return { match: { prefix: String(m.prefix) } };
  if (m.regex !== undefined) {
    const problem = re2Problem(String(m.regex));
    return problem ? { unsupported: `${what} regex ${JSON.stringify(m.regex)} (${problem})` } : { match: { regex: String(m.regex) } };
  }
  if (Object.keys(m).length === 0) return { match: { present: true } };
  return { unsupported: `${what} ${Object.keys(m).join(', ')} match` };
}

/**
 * matchOf turns an HTTP or gRPC route's match into `routes[].match`: path prefix, exact path
 * or regex, method, headers (gRPC metadata) and query parameters; a gRPC service and method
 * become the path `/<service>/<method>`. Scheme, port, suffix and range matches have no equivalent.
 */
function matchOf(kind: string, match: Json): { match: Record<string, unknown>; unsupported: string[] } {
  const out: Record<string, unknown> = {};
  const unsupported: string[] = [];
  const path = obj(match.path);
  if (typeof match.prefix === 'string' && match.prefix !== '/') out.pathPrefix = match.prefix;
  if (typeof path.exact === 'string') out.exactPath = path.exact;
  if (typeof path.regex === 'string') {
    const problem = re2Problem(path.regex);
    if (problem) unsupported.push(`path regex ${JSON.stringify(path.regex)} (${problem})`);
    else out.regex = path.regex;
  }
  if (typeof match.serviceName === 'string') {
    if (typeof match.methodName === 'string') out.exactPath = `/${match.serviceName}/${match.methodName}`;
    else out.pathPrefix = `/${match.serviceName}/`;
  }
  if (match.method !== undefined) {
    if (httpMethods.has(String(match.method))) out.method = String(match.method);
    else unsupported.push(`method ${String(match.method)}`);
  }
  const headers = arr(kind === 'grpcRoute' ? match.metadata : match.headers).map(obj);
  const headerMatches = headers.flatMap((h) => {
    const v = valueMatchOf(obj(h.match), 'header');
    if (v.unsupported) unsupported.push(v.unsupported);
    return v.match ? [{ name: String(h.name).toLowerCase(), ...v.match, ...(h.invert === true ? { invert: true } : {}) }] : [];
  });
  if (headerMatches.length > 0) out.headers = headerMatches;
  const query = arr(match.queryParameters).map(obj).flatMap((q) => {
    const v = valueMatchOf(obj(q.match), 'query parameter');
    if (v.unsupported) unsupported.push(v.unsupported);
    return v.match ? [{ name: String(q.name), ...v.match }] : [];
  });
  if (query.length > 0) out.queryParams = query;
  if (match.scheme !== undefined) unsupported.push(`scheme ${String(match.scheme)}`);
  if (match.port !== undefined) unsupported.push(`port ${String(match.port)}`);
  return { match: out, unsupported };
}

const httpRetryEvents: Readonly<Record<string, string>> = { 'server-error': '5xx', 'gateway-error': 'gateway-error', 'client-error': 'retriable-4xx', 'stream-error': 'refused-stream' };

function retriesOf(retry: Json, route: AppMeshResource, kind: string, unsupported: Unsupported[]): Record<string, unknown> {
  const retryOn = [
    ...arr(retry.httpRetryEvents).map((e) => httpRetryEvents[String(e)]),
    ...arr(retry.tcpRetryEvents).map((e) => (e === 'connection-error' ? 'connect-failure' : undefined)),
    ...arr(retry.grpcRetryEvents).map((e) => String(e)),
  ].filter((e): e is string => e !== undefined);
  const unknown = [...arr(retry.httpRetryEvents), ...arr(retry.tcpRetryEvents)].filter((e) => !httpRetryEvents[String(e)] && e !== 'connection-error');
  if (unknown.length > 0) unsupported.push({ at: `${route.at}.spec.${kind}.retryPolicy`, what: `retry events ${unknown.join(', ')}` });
  const perTry = millis(retry.perRetryTimeout);
  return {
    ...(retryOn.length > 0 ? { retryOn: [...new Set(retryOn)] } : {}),
    ...(typeof retry.maxRetries === 'number' ? { numRetries: Math.min(10, retry.maxRetries) } : {}),
    ...(perTry !== undefined ? { perTryTimeoutMs: perTry } : {}),
  };
}

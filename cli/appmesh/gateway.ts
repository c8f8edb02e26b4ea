import { ServiceSpecInput } from '../../shared/model/spec';
import { AppMeshResource, Json, Unsupported } from './read';

/**
 * Virtual gateways and their gateway routes, as specs of kind "gateway": each listener's port
 * and protocol, each route's prefix or exact path, host name, target virtual service and prefix
 * rewrite, in App Mesh's priority order. What has no equivalent (header, method and query
 * matches, regex paths, host name rewrites, listener TLS certificates, which must be put in
 * Secrets Manager first) is reported with where it was; a gateway left with no route is not imported.
 */

const obj = (v: unknown): Json => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

const gatewayProtocols: Readonly<Record<string, 'http' | 'http2' | 'grpc'>> = { http: 'http', http2: 'http2', grpc: 'grpc' };
const routeKinds = ['httpRoute', 'http2Route', 'grpcRoute'] as const;

export interface GatewayContext {
  readonly serviceOfVirtualService: ReadonlyMap<string, string>;
  /** Service names already used: a gateway gets a name of its own. */
  readonly taken: Set<string>;
  /** How an App Mesh name becomes a service name (convert.ts). */
  readonly nameOf: (name: string) => string;
  readonly unsupported: Unsupported[];
  readonly notes: string[];
}

type Route = NonNullable<ServiceSpecInput['routes']>[number];

/** convertGateways turns virtual gateways and their routes into gateway specs. */
export function convertGateways(gateways: readonly AppMeshResource[], gatewayRoutes: readonly AppMeshResource[], ctx: GatewayContext): ServiceSpecInput[] {
  const specs: ServiceSpecInput[] = [];
  for (const gw of gateways) {
    let name = ctx.nameOf(gw.name);
    for (let i = 2; ctx.taken.has(name); i++) name = `${ctx.nameOf(gw.name)}-${i}`;
    const listeners = arr(obj(gw.spec).listeners).map(obj).flatMap((l, i) => {
      const mapping = obj(l.portMapping);
      const protocol = gatewayProtocols[str(mapping.protocol) ?? ''];
      if (typeof mapping.port !== 'number' || !protocol) {
        ctx.unsupported.push({ at: `${gw.at}.spec.listeners[${i}]`, what: `a listener on ${String(mapping.protocol)}: gateways take http, http2 and grpc` });
        return [];
      }
      if (l.tls !== undefined) {
        ctx.unsupported.push({ at: `${gw.at}.spec.listeners[${i}].tls`, what: 'listener TLS: put the certificate and key (PEM) in Secrets Manager and set listeners[].tls.certificateSecretArn' });
      }
      return [{ port: mapping.port, protocol }];
    });
    const routes = gatewayRoutes
      .filter((r) => r.gateway === gw.name)
      .sort((a, b) => priorityOf(a) - priorityOf(b) || (a.name < b.name ? -1 : 1))
      .flatMap((r) => routeOf(r, ctx));
    if (listeners.length === 0 || routes.length === 0) {
      ctx.unsupported.push({ at: gw.at, what: `virtual gateway "${gw.name}" not imported: it has no ${listeners.length === 0 ? 'listener' : 'route'} that carries over` });
      continue;
    }
    ctx.taken.add(name);
    specs.push({ name, kind: 'gateway', inboundPort: listeners[0]!.port, appPort: listeners[0]!.port, protocol: 'http', listeners, routes });
    ctx.notes.push(`virtual gateway "${gw.name}" is gateway "${name}": run it with MeshGateway (infra/gateway.ts)`);
  }
  return specs;
}

function priorityOf(r: AppMeshResource): number {
  return typeof obj(r.spec).priority === 'number' ? (obj(r.spec).priority as number) : 1001;
}

/** routeOf is one gateway route as ours, or nothing (reported) when it matches or rewrites what ours cannot. */
function routeOf(r: AppMeshResource, ctx: GatewayContext): Route[] {
  const kind = routeKinds.find((k) => obj(r.spec)[k] !== undefined);
  const at = `${r.at}.spec.${kind ?? 'httpRoute'}`;
  if (!kind) {
    ctx.unsupported.push({ at: r.at, what: `gateway route "${r.name}": only http, http2 and grpc routes carry over` });
    return [];
  }
  const body = obj(obj(r.spec)[kind]);
  const match = obj(body.match);
  const action = obj(body.action);
  const missing: string[] = [];
  for (const key of ['headers', 'method', 'queryParameters', 'metadata', 'port']) if (match[key] !== undefined) missing.push(`match.${key}`);
  if (obj(match.path).regex !== undefined) missing.push('match.path.regex');
  if (obj(obj(action.rewrite).hostname).defaultTargetHostname !== undefined || obj(obj(action.rewrite).path).exact !== undefined) missing.push('action.rewrite of host name or path');
  const vs = str(obj(obj(action.target).virtualService).virtualServiceName) ?? '';
  const service = ctx.serviceOfVirtualService.get(vs);
  if (!service) missing.push(`target "${vs}" (not a virtual service among the definitions read)`);
  if (missing.length > 0) {
    ctx.unsupported.push({ at, what: `gateway route "${r.name}" not imported: ${missing.join(', ')} has no equivalent` });
    return [];
  }
  const hostname = obj(match.hostname);
  const hostnames = str(hostname.exact) ? [str(hostname.exact)!] : str(hostname.suffix) ? [`*.${str(hostname.suffix)!.replace(/^\.+/, '')}`] : undefined;
  const exact = str(obj(match.path).exact);
  const prefix = kind === 'grpcRoute' ? (str(match.serviceName) ? `/${str(match.serviceName)}/` : '/') : (str(match.prefix) ?? (exact === undefined ? '/' : undefined));
  const rewrite = str(obj(obj(action.rewrite).prefix).value);
  return [
    {
      ...(exact !== undefined ? { exactPath: exact } : { pathPrefix: prefix! }),
      ...(hostnames ? { hostnames } : {}),
      service: service!,
      ...(rewrite !== undefined && exact === undefined ? { rewritePrefix: rewrite } : {}),
    },
  ];
}

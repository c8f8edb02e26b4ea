import * as z from './zod';
import { Problem } from '../errors';
import { edgeDefaults } from './defaults';
import { MtlsMode, ServiceKind, kindOf, mtlsModes, serviceKinds } from './service-terms';
import { httpPath, port, serviceName } from './spec-primitives';

/**
 * The mesh's edges in the spec: ingress gateways (`kind: "gateway"`, App Mesh's virtual gateway,
 * Istio's Gateway), services outside the mesh (`kind: "external"`, App Mesh's egress, Istio's
 * ServiceEntry), and how strictly a service asks for mutual TLS (`mtls.mode`, Istio's
 * PeerAuthentication). Field names are fixed by issue #17.
 */

// The kinds, mTLS modes and the functions that read them are zod-free (service-terms.ts): the read path uses them.
export { dependencyNamesOf, kindOf, mtlsModeOf, mtlsModes, serviceKinds } from './service-terms';
export type { MtlsMode, ServiceKind } from './service-terms';

/** A DNS name of a host outside the mesh: labels of letters, digits and '-', a letter-led last label. */
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;
export const externalHost = z.string().check(z.regex(DNS_NAME, 'must be a lowercase DNS name with at least two labels, e.g. api.example.com'));


/** Host names a gateway route answers for: exact names or a leading wildcard (`*.example.com`). */
const routeHostname = z
  .string()
  .check(
    z.maxLength(253),
    z.regex(/^(\*\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a lowercase host name, optionally starting with "*."'),
  );

/** Protocols a gateway listener accepts from outside (App Mesh virtual gateways: http, http2, grpc). */
export const gatewayProtocols = ['http', 'http2', 'grpc'] as const;

/**
 * A Secrets Manager secret that holds the operator's certificate chain and private key as PEM
 * (a JSON document `{"certificatePem": ..., "privateKeyPem": ...}`); see docs/rendering.md.
 */
const secretArn = z
  .string()
  .check(z.regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/, 'must be a Secrets Manager secret ARN'));

export const gatewayListenerSchema = z.strictObject({
  port,
  protocol: z.enum(gatewayProtocols),
  /** TLS termination with the operator's certificate; absent: plaintext (e.g. behind an ALB that terminates). */
  tls: z.optional(z.strictObject({ certificateSecretArn: secretArn })),
});

export const gatewayRouteSchema = z
  .strictObject({
    pathPrefix: z.optional(httpPath),
    exactPath: z.optional(httpPath),
    /** Host names (Host / :authority) the route answers for; absent: any. */
    hostnames: z.optional(z.array(routeHostname).check(z.minLength(1), z.maxLength(50))),
    /** The mesh service requests go to, over mTLS with the gateway's own certificate. */
    service: serviceName,
    /** Replaces the matched prefix (pathPrefix routes only), e.g. "/api/orders" → "/". */
    rewritePrefix: z.optional(httpPath),
  })
  .check(
    z.superRefine((route, ctx) => {
      if ((route.pathPrefix === undefined) === (route.exactPath === undefined)) {
        ctx.addIssue({ code: 'custom', path: ['pathPrefix'], message: 'set exactly one of pathPrefix and exactPath' });
      }
      if (route.rewritePrefix !== undefined && route.pathPrefix === undefined) {
        ctx.addIssue({ code: 'custom', path: ['rewritePrefix'], message: 'needs pathPrefix: only a matched prefix can be rewritten' });
      }
    }),
  );

export type GatewayListener = z.output<typeof gatewayListenerSchema>;
export type GatewayRoute = z.output<typeof gatewayRouteSchema>;


/**
 * mtlsSchema: `mode` says how the inbound side treats callers (strict: mTLS only; permissive:
 * mTLS or plaintext, for migrating a live mesh; off: plaintext). `enabled` is the older switch,
 * still accepted: `enabled: false` is `mode: "off"`, and both set must agree.
 */
export const mtlsSchema = z
  .strictObject({ enabled: z.optional(z.boolean()), mode: z.optional(z.enum(mtlsModes)) })
  .check(
    z.superRefine((mtls, ctx) => {
      if (mtls.enabled === undefined || mtls.mode === undefined) return;
      if (mtls.enabled !== (mtls.mode !== 'off')) {
        ctx.addIssue({
          code: 'custom',
          path: ['mode'],
          message: `"${mtls.mode}" contradicts mtls.enabled ${mtls.enabled}; set only mode (enabled false is mode "off")`,
        });
      }
    }),
  );

/** The spec fields this file adds, as spec.ts's schema holds them (one line each there). */
export const edgeFields = {
  kind: z.optional(z.enum(serviceKinds)),
  hosts: z.optional(z.array(externalHost).check(z.minLength(1), z.maxLength(20))),
  port: z.optional(port),
  tls: z.optional(z.boolean()),
  listeners: z.optional(z.array(gatewayListenerSchema).check(z.minLength(1), z.maxLength(20))),
  routes: z.optional(z.array(gatewayRouteSchema).check(z.minLength(1), z.maxLength(500))),
};

/** EdgeSpec is what these helpers read of a spec. */
export interface EdgeSpec {
  readonly name: string;
  readonly kind?: ServiceKind | undefined;
  readonly hosts?: readonly string[] | undefined;
  readonly port?: number | undefined;
  readonly tls?: boolean | undefined;
  readonly listeners?: readonly GatewayListener[] | undefined;
  readonly routes?: readonly GatewayRoute[] | undefined;
  readonly dependencies: readonly { readonly service: string }[];
  readonly mtls?: { readonly enabled?: boolean | undefined; readonly mode?: MtlsMode | undefined } | undefined;
}

/**
 * withEdgeKindPorts fills what a gateway or external service has no use for, before the
 * schema checks it: the core fields `inboundPort` and `appPort` (an external service's port; a
 * gateway's first listener port, where its ECS tasks' endpoints point) and `protocol` (tcp for
 * an external service, http for a gateway). Anything written stays as written.
 */
export function withEdgeKindPorts(input: unknown): unknown {
  if (!input || typeof input !== 'object' || Array.isArray(input)) return input;
  const spec = input as Record<string, unknown>;
  if (spec.kind !== 'external' && spec.kind !== 'gateway') return input;
  const first = Array.isArray(spec.listeners) ? (spec.listeners[0] as { port?: unknown } | undefined)?.port : undefined;
  const filled = spec.kind === 'external' ? spec.port : first;
  const protocol = spec.kind === 'external' ? edgeDefaults.externalProtocol : edgeDefaults.gatewayProtocol;
  return {
    // Without a port to copy, a stand-in lets the schema pass so that checkEdgeSpec names what is
    // really missing (`port`, `listeners`) and the spec is refused there.
    inboundPort: typeof filled === 'number' ? filled : 1,
    appPort: typeof filled === 'number' ? filled : 1,
    protocol,
    ...spec,
  };
}

/** EdgeCheckSpec is what checkEdgeSpec reads. */
type EdgeCheckSpec = EdgeSpec & {
  readonly inboundPort: number;
  readonly appPort: number;
  readonly protocol: string;
  readonly inbound?: object | undefined;
  readonly dependencies: readonly object[];
};

/**
 * checkEdgeSpec finds what a well-typed spec gets wrong about its kind: a field of another
 * kind, a required field missing, listeners or hosts declared twice, routes a gateway can
 * never use. Path-located, like every other spec check.
 */
export function checkEdgeSpec(spec: EdgeCheckSpec): Problem[] {
  const kind = kindOf(spec);
  const problems: Problem[] = [];
  const only = (field: keyof EdgeSpec, on: ServiceKind) => {
    if (spec[field] !== undefined && kind !== on) problems.push({ path: field, message: `is for kind "${on}"; this is kind "${kind}"` });
  };
  only('hosts', 'external');
  only('port', 'external');
  only('tls', 'external');
  only('listeners', 'gateway');
  only('routes', 'gateway');
  const required = (field: keyof EdgeSpec) => {
    if (spec[field] === undefined) problems.push({ path: field, message: `is required for kind "${kind}"` });
  };
  if (kind === 'external') {
    required('hosts');
    required('port');
    required('tls');
    if (spec.protocol === 'grpc' && spec.tls === false) problems.push({ path: 'tls', message: 'gRPC to an external host needs TLS here' });
    duplicatesOf(spec.hosts ?? [], 'hosts', problems);
  }
  if (kind === 'gateway') {
    required('listeners');
    required('routes');
    const ports = new Map<number, number>();
    (spec.listeners ?? []).forEach((l, i) => {
      const first = ports.get(l.port);
      if (first !== undefined) problems.push({ path: `listeners.${i}.port`, message: `${l.port} is already used by listeners.${first}` });
      else ports.set(l.port, i);
      if (l.port === edgeDefaults.gatewayHealthPort) problems.push({ path: `listeners.${i}.port`, message: `${l.port} is the gateway's health port (its load balancer's health checks)` });
    });
    const matches = new Map<string, number>();
    (spec.routes ?? []).forEach((r, i) => {
      const key = JSON.stringify([[...(r.hostnames ?? ['*'])].sort(), r.exactPath ?? '', r.pathPrefix ?? '']);
      const first = matches.get(key);
      if (first !== undefined) problems.push({ path: `routes.${i}`, message: `matches the same requests as routes.${first}, which takes them all` });
      else matches.set(key, i);
      if (r.service === spec.name) problems.push({ path: `routes.${i}.service`, message: 'a gateway cannot route to itself' });
    });
  }
  if (kind !== 'service') {
    if (spec.dependencies.length > 0) problems.push({ path: 'dependencies', message: `a ${kind} has no payload to call dependencies` });
    if (spec.inbound !== undefined) problems.push({ path: 'inbound', message: `a ${kind} has no inbound side of a payload` });
  }
  if (kind === 'external' && spec.mtls !== undefined) {
    problems.push({ path: 'mtls', message: 'an external service is outside the mesh: use tls for TLS origination' });
  }
  return problems;
}

function duplicatesOf(values: readonly string[], path: string, problems: Problem[]): void {
  const first = new Map<string, number>();
  values.forEach((v, i) => {
    const at = first.get(v);
    if (at !== undefined) problems.push({ path: `${path}.${i}`, message: `"${v}" is already listed at ${path}.${at}` });
    else first.set(v, i);
  });
}

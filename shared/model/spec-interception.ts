import * as z from './zod';
import { port } from './spec-primitives';

/**
 * How a service's payload reaches its dependencies. `localhost` (the default): it calls each
 * dependency at 127.0.0.1:<localPort>. `transparent`: as under App Mesh, the payload keeps
 * calling services by name (`payments.mesh.internal:8080`); the host redirects its outbound TCP
 * into Envoy's egress port and the traffic arriving at its appPort into Envoy's inboundPort
 * (ECS `proxyConfiguration`, or iptables on EC2), and Envoy routes by Host (HTTP) or by
 * destination port (TCP). The fields that describe the service as a callee (`hostnames`,
 * `port`) apply whatever its own mode.
 */

export const interceptionModes = ['localhost', 'transparent'] as const;
export type InterceptionMode = (typeof interceptionModes)[number];

/** What a transparent caller's Envoy does with outbound traffic to no mesh service. */
export const unknownDestinations = ['passthrough', 'deny'] as const;

/** A DNS name of lowercase labels, with at least one dot (a name callers resolve in the VPC). */
const hostname = z
  .string()
  .check(
    z.maxLength(253),
    z.regex(
      /^(?=.{1,253}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/,
      'must be a lowercase DNS name with at least two labels, e.g. payments.prod.local',
    ),
  );

/** An IPv4 address or CIDR block, e.g. 10.0.0.0/16 or 169.254.169.254. */
const ipv4Cidr = z
  .string()
  .check(
    z.regex(
      /^((25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\/(3[0-2]|[12]?\d))?$/,
      'must be an IPv4 address or CIDR block, e.g. 10.0.0.0/16',
    ),
  );

export const interceptionSchema = z.strictObject({
  /** localhost (default) or transparent: see above. */
  mode: z.optional(z.enum(interceptionModes)),
  /**
   * More names this service answers to, beside `<name>.<serviceDomain>` (an App Mesh virtual
   * service name such as `payments.prod.local`). Transparent callers route HTTP requests whose
   * Host is one of them to this service; MeshDns gives each a record.
   */
  hostnames: z.optional(z.array(hostname).check(z.maxLength(20))),
  /** The port callers address this service at by name (TCP callers are routed by it). @default appPort */
  port: z.optional(port),
  /** Transparent mode: Envoy's egress port, where redirected outbound traffic arrives. @default 15001 */
  egressPort: z.optional(port),
  /** Transparent mode: outbound TCP to these addresses is never redirected (IMDS and the ECS task metadata endpoint always are not). */
  egressIgnoredIps: z.optional(z.array(ipv4Cidr).check(z.maxLength(20))),
  /** Transparent mode: outbound TCP to these ports is never redirected. */
  egressIgnoredPorts: z.optional(z.array(port).check(z.maxLength(15))),
  /**
   * Transparent mode: traffic to a destination that is no dependency goes on unchanged through
   * Envoy (`passthrough`, the default: AWS APIs, databases keep working) or is closed (`deny`,
   * App Mesh's DROP_ALL egress filter).
   */
  unknownDestinations: z.optional(z.enum(unknownDestinations)),
});

export type Interception = z.output<typeof interceptionSchema>;

/**
 * checkInterceptionPorts finds the egress port clashing with a port the spec already uses
 * (`portOwners`: inboundPort, appPort, each localPort, the external port), in transparent mode,
 * where Envoy listens there.
 */
export function checkInterceptionPorts(
  spec: { readonly interception?: Interception | undefined },
  portOwners: ReadonlyMap<number, string>,
  defaultEgressPort: number,
): { path: string; message: string }[] {
  if (spec.interception?.mode !== 'transparent') return [];
  const egress = spec.interception.egressPort ?? defaultEgressPort;
  const owner = portOwners.get(egress);
  if (owner === undefined) return [];
  const path = spec.interception.egressPort === undefined ? 'interception.egressPort (default)' : 'interception.egressPort';
  return [{ path, message: `${egress} clashes with ${owner}` }];
}

import { z } from 'zod';
import { Problem, ValidationError } from '../errors';

/**
 * The service spec is what an operator declares about one mesh service. Its core fields
 * (name, inboundPort, appPort, protocol, dependencies[].service/localPort) are fixed because
 * tooling and docs depend on them; everything else is an optional extension with a default
 * written down in `defaults.ts`.
 */

/** DNS_LABEL is RFC 1123: lowercase alphanumerics and '-', 1 to 63 characters, alphanumeric at both ends. */
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export const serviceName = z
  .string()
  .regex(DNS_LABEL, 'must be a DNS label: 1-63 lowercase letters, digits or "-", starting and ending alphanumeric');

export const port = z.int().min(1, 'must be a port from 1 to 65535').max(65535, 'must be a port from 1 to 65535');

export const protocols = ['http', 'http2', 'grpc', 'tcp'] as const;
export type Protocol = (typeof protocols)[number];

export const dependencySchema = z.strictObject({
  /** The mesh service this one calls. */
  service: serviceName,
  /** Where the payload reaches it: 127.0.0.1:localPort on the same host. */
  localPort: port,
});

export const serviceSpecSchema = z.strictObject({
  name: serviceName,
  /** Where this service's Envoy accepts mesh traffic: the port other services' endpoints point at. */
  inboundPort: port,
  /** Where the payload listens on localhost. */
  appPort: port,
  protocol: z.enum(protocols),
  dependencies: z.array(dependencySchema).max(500).default([]),
  /** How this service is found in ECS. An ECS service maps to the mesh service of the same name unless set. */
  ecs: z
    .strictObject({
      /** The ECS service name (the task's `group` is `service:<serviceName>`). */
      serviceName: z.string().min(1).max(255).regex(/^[A-Za-z0-9_-]+$/, 'must be an ECS service name').optional(),
      /** The ECS cluster (name or ARN) the service runs in: the reconciler lists its tasks there. */
      cluster: z.string().min(1).max(2048).optional(),
    })
    .optional(),
  /**
   * How long a leaving VM drains before the Auto Scaling terminate hook is completed. At most
   * 900 s: the completion is scheduled as a delayed SQS message, whose delay caps there.
   */
  drainSeconds: z.int().min(0).max(900).optional(),
});

export type ServiceSpecInput = z.input<typeof serviceSpecSchema>;
export type ServiceSpec = z.output<typeof serviceSpecSchema>;
export type Dependency = ServiceSpec['dependencies'][number];

/** ecsServiceNameOf returns the ECS service name whose tasks belong to this mesh service. */
export function ecsServiceNameOf(spec: ServiceSpec): string {
  return spec.ecs?.serviceName ?? spec.name;
}

/** toProblems turns zod issues into path-located problems. */
export function toProblems(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys') {
      return { path, message: `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}` };
    }
    return { path, message: issue.message };
  });
}

/**
 * checkSpecConsistency finds what a well-typed spec can still get wrong on its own:
 * ports that clash, a dependency on itself, the same dependency twice.
 */
export function checkSpecConsistency(spec: ServiceSpec): Problem[] {
  const problems: Problem[] = [];
  if (spec.inboundPort === spec.appPort) {
    problems.push({ path: 'appPort', message: `clashes with inboundPort ${spec.inboundPort}` });
  }
  const portOwners = new Map<number, string>([
    [spec.inboundPort, 'inboundPort'],
    [spec.appPort, 'appPort'],
  ]);
  const seen = new Map<string, number>();
  spec.dependencies.forEach((dep, i) => {
    const where = `dependencies.${i}`;
    if (dep.service === spec.name) {
      problems.push({ path: `${where}.service`, message: 'a service cannot depend on itself' });
    }
    const first = seen.get(dep.service);
    if (first !== undefined) {
      problems.push({ path: `${where}.service`, message: `"${dep.service}" is already declared at dependencies.${first}` });
    } else {
      seen.set(dep.service, i);
    }
    const owner = portOwners.get(dep.localPort);
    if (owner !== undefined) {
      problems.push({ path: `${where}.localPort`, message: `${dep.localPort} clashes with ${owner}` });
    } else {
      portOwners.set(dep.localPort, `${where}.localPort`);
    }
  });
  return problems;
}

/**
 * parseServiceSpec validates untrusted input into a spec, collecting every problem with its
 * field path. It checks the spec on its own; checks against other services (unknown
 * dependencies, protocol mismatches) belong to `analyzeSpec` in the catalog.
 */
export function parseServiceSpec(input: unknown): ServiceSpec {
  const parsed = serviceSpecSchema.safeParse(input);
  if (!parsed.success) {
    throw new ValidationError('invalid service spec', toProblems(parsed.error));
  }
  const problems = checkSpecConsistency(parsed.data);
  if (problems.length > 0) {
    throw new ValidationError(`invalid service spec "${parsed.data.name}"`, problems);
  }
  return parsed.data;
}

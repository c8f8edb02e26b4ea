import { Annotations, CustomResource, Duration, Lazy, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ServiceSpec, ServiceSpecInput, mtlsEnabledOf } from '../shared/model/spec';
import { dependencyNamesOf, kindOf } from '../shared/model/spec-edges';
import { parseServiceSpec } from '../shared/model/parse-spec';
import type { ControlPlane } from './control-plane';
import { metricsPolicy } from '../shared/render/stats';
import { servicePolicy } from '../shared/render/policy';

/**
 * MeshServiceProps are the service spec itself (the same type the management API accepts,
 * imported so the two cannot drift) plus the control plane to declare it in.
 */
export type MeshServiceProps = ServiceSpecInput & {
  readonly controlPlane: ControlPlane;
};

/** The services declared in each control plane, so dependencies can be ordered and names kept unique. */
const declared = new WeakMap<ControlPlane, Map<string, MeshService>>();

/**
 * MeshService declares a service spec as code. The spec is validated when the construct is
 * created, by the same `parseServiceSpec` the management API uses, so an invalid spec fails
 * `cdk synth` with the message the API would answer. On deploy a custom resource declares it
 * (`declareService`, checking its dependencies exist); on delete it is removed.
 *
 * A MeshService depends on the MeshServices of its dependencies in the same control plane:
 * CloudFormation then declares a dependency before its callers and deletes callers first,
 * so neither step trips over the catalog's "unknown dependency" and "still depended on" checks.
 */
export class MeshService extends Construct {
  public readonly serviceName: string;
  /** The spec as validated at synth, defaults applied; deploy-time values (tokens) appear as their stand-ins. */
  public readonly spec: ServiceSpec;
  public readonly drainSeconds?: number;
  public readonly resource: CustomResource;
  /** Roles bound by the sidecar helpers (bindNodeRole), added to the spec's identity.iamRoleArns. */
  private readonly boundRoleArns: string[] = [];
  private readonly declaredRoleArns: readonly string[];

  constructor(scope: Construct, id: string, props: MeshServiceProps) {
    super(scope, id);
    const { controlPlane, ...input } = props;
    if (Token.isUnresolved(input.name)) {
      throw new Error('MeshService: name must be a literal: it orders the services and names the resource');
    }
    // Deploy-time values (a role's ARN, a cluster's ARN) are checked by the catalog on deploy;
    // at synth they are validated as well-formed stand-ins, and everything else as written.
    this.spec = parseServiceSpec(withStandIns(input, []));
    this.serviceName = this.spec.name;
    this.drainSeconds = this.spec.drainSeconds;
    this.declaredRoleArns = input.identity?.iamRoleArns ?? [];

    const services = declared.get(controlPlane) ?? new Map<string, MeshService>();
    declared.set(controlPlane, services);
    const existing = services.get(this.serviceName);
    if (existing) {
      throw new Error(`MeshService "${this.serviceName}" is already declared at ${existing.node.path}`);
    }
    services.set(this.serviceName, this);

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: controlPlane.catalogFunction.functionArn,
      resourceType: 'Custom::MeshService',
      // A JSON string keeps numbers numbers (CloudFormation hands every property value over as a string).
      // Lazy: the sidecar helpers bind their nodes' roles after the service is created.
      properties: { Spec: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.specWithBoundRoles(input)) }) },
      serviceTimeout: Duration.minutes(2),
    });
    // With metrics on, an alarm on the 5xx its sidecars answer (HTTP protocols: TCP has no status).
    if (this.spec.protocol !== 'tcp' && metricsPolicy(this.spec, controlPlane.renderSettings)) {
      controlPlane.monitoring.watchService(this.serviceName, servicePolicy(this.spec).statsPrefix);
    }
    this.resource.node.addDependency(controlPlane.table);

    // A gateway's routes order it after the services it routes to, as dependencies do.
    for (const dep of dependencyNamesOf(this.spec)) services.get(dep)?.dependOnService(this);
    for (const other of services.values()) {
      if (dependencyNamesOf(other.spec).includes(this.serviceName)) this.dependOnService(other);
    }
    this.node.addValidation({ validate: () => this.identityProblems() });
    this.node.addValidation({ validate: () => this.warnIfUnreachable(services) });
  }

  /**
   * bindNodeRole makes a role's polls count as this service's nodes: its ARN joins the spec's
   * `identity.iamRoleArns`. addMeshSidecar and addMeshUserData call it with the task role and
   * the instance role, so a service whose nodes come from those helpers needs no identity prop.
   */
  public bindNodeRole(role: iam.IRole): void {
    if (!this.boundRoleArns.includes(role.roleArn) && !this.declaredRoleArns.includes(role.roleArn)) {
      this.boundRoleArns.push(role.roleArn);
    }
  }

  /** nodeRoleArns are the role ARNs whose polls get this service's configuration (tokens until deploy). */
  public get nodeRoleArns(): readonly string[] {
    return [...this.declaredRoleArns, ...this.boundRoleArns];
  }

  private specWithBoundRoles(input: Omit<MeshServiceProps, 'controlPlane'>): Omit<MeshServiceProps, 'controlPlane'> {
    if (this.boundRoleArns.length === 0) return input;
    return { ...input, identity: { ...input.identity, iamRoleArns: [...this.nodeRoleArns] } };
  }

  /**
   * warnIfUnreachable says at synth what the strict default means for an entry point: with no
   * allow-list, only services that declare this one as a dependency may call it, so a service
   * nobody in the control plane calls, without an external listener, admits no traffic at all
   * (typically the one behind a load balancer). A warning, not an error: its callers may be
   * declared elsewhere (through the management API). Returns no error.
   */
  private warnIfUnreachable(services: ReadonlyMap<string, MeshService>): string[] {
    if (this.spec.inbound?.allowedCallers || this.spec.inbound?.external || !mtlsEnabledOf(this.spec) || kindOf(this.spec) !== 'service') return [];
    const called = [...services.values()].some((s) => dependencyNamesOf(s.spec).includes(this.serviceName));
    if (!called) {
      Annotations.of(this).addWarningV2(
        'mesh:unreachable-service',
        `MeshService "${this.serviceName}": no service in this control plane calls it and it has no external listener, so its Envoy ` +
          'admits no traffic (only services that depend on it may call it). Behind a load balancer, set inbound.external.port ' +
          '(plaintext, no client certificate) and allow the load balancer to that port in a security group.',
      );
    }
    return [];
  }

  /**
   * identityProblems fails synth for a service no node could ever poll: the front door
   * authenticates with IAM, and a spec binding no role is refused on every poll (403).
   */
  private identityProblems(): string[] {
    const roles = this.nodeRoleArns.length;
    if (roles === 0) {
      return [
        `MeshService "${this.serviceName}": no IAM role is bound to it, so every poll of its nodes would be refused (403). ` +
          'Add its nodes with addMeshSidecar / addMeshUserData (they bind the task or instance role), call bindNodeRole(role), ' +
          'or set identity.iamRoleArns.',
      ];
    }
    if (roles > maxIdentityRoles) {
      return [`MeshService "${this.serviceName}": ${roles} IAM roles are bound to it; a spec holds at most ${maxIdentityRoles}`];
    }
    return [];
  }

  /** dependOnService makes `caller` depend on this service's resource (deployed after it, deleted before it). */
  private dependOnService(caller: MeshService): void {
    caller.resource.node.addDependency(this.resource);
  }
}

/** The most role ARNs a spec's identity holds (shared/model/spec.ts). */
const maxIdentityRoles = 20;

/** The stand-in for an IAM role ARN known only at deploy time: well-formed, never a real role. */
const roleArnStandIn = 'arn:aws:iam::000000000000:role/deploy-time-value';

/**
 * withStandIns replaces each unresolved token in a spec by a value of the right form, so the
 * spec's own rules (types, lengths, formats) can be checked at synth. Role ARNs get an ARN;
 * every other deploy-time string (ARNs and names of clusters, say) a plain word.
 */
function withStandIns(value: unknown, path: readonly string[]): unknown {
  if (typeof value === 'string') {
    if (!Token.isUnresolved(value)) return value;
    return path.includes('iamRoleArns') ? roleArnStandIn : 'deploy-time-value';
  }
  if (Array.isArray(value)) return value.map((item, i) => withStandIns(item, [...path, String(i)]));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, withStandIns(inner, [...path, key])]));
  }
  return value;
}

import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { defaults } from '../shared/config';
import { parseMeshName } from '../shared/pki/identity';
import { ValidationError } from '../shared/errors';
import type { PushTierOptions } from './xds-server';
import { EgressPolicy, RouteDelivery, routeDeliveries } from '../shared/render/settings';
import { ObservabilitySpec, observabilitySchema } from '../shared/model/spec-observability';
import { toProblems } from '../shared/model/spec';

export interface ControlPlaneProps {
  /** Keep the state table (and its data) when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection: the table cannot be deleted until this is turned off. @default true */
  readonly deletionProtection?: boolean;
  /** Point-in-time recovery (35 days of restorable history). @default true */
  readonly pointInTimeRecovery?: boolean;
  /**
   * The name of the xDS cluster in every Envoy bootstrap, which rendered config sources point
   * at. It is a fixed name, not the function URL's host: see docs/deploy.md ("The xDS host").
   * @default 'xds_cluster'
   */
  readonly xdsClusterName?: string;
  /** How often Envoys poll EDS and RDS, in seconds as Envoy writes durations. @default '10s' */
  readonly refreshDelay?: string;
  /**
   * Route configurations over RDS, or inline in their listeners: no RDS polls (on the REST tier
   * about half of all polls: docs/cost.md, "Route delivery"), but every route change is then a
   * listener change that drains connections, and LDS polls at `refreshDelay`. @default 'rds'
   */
  readonly routeDelivery?: RouteDelivery;
  /** How long one poll may take: covers a cold start. @default '5s' */
  readonly requestTimeout?: string;
  /** The mesh's trust domain: identities are `spiffe://<meshName>/service/<name>`. @default 'mesh.local' */
  readonly meshName?: string;
  /**
   * What sidecars do with traffic to destinations no dependency declares (App Mesh's egress
   * filter): 'allow-declared' (DROP_ALL) or 'allow-all' (ALLOW_ALL). Only transparent-mode
   * sidecars see such traffic (docs/rendering.md, "The mesh's edges"). @default 'allow-declared'
   */
  readonly egress?: EgressPolicy;
  /** The CA bundle in the Envoy image that external services' certificates are verified against. @default '/etc/ssl/certs/ca-certificates.crt' */
  readonly systemCaBundlePath?: string;
  /**
   * Proxyless gRPC nodes do mutual TLS: their clusters and server listeners name the certificate
   * provider instance their bootstrap must declare (docs/rendering.md, "Proxyless gRPC servers").
   * @default false
   */
  readonly proxylessMtls?: boolean;
  /** How long the xds function reuses a snapshot read from the table, in ms (0: no cache). @default 2000 */
  readonly snapshotCacheTtlMs?: number;
  /** The EC2 tag naming an instance's mesh service. @default 'mesh:service' */
  readonly meshTagKey?: string;
  /** Only task events from these ECS clusters (ARNs) reach the control plane. @default - every cluster */
  readonly ecsClusterArns?: readonly string[];
  /** When the reconciler runs. @default rate(5 minutes) */
  readonly reconcileSchedule?: events.Schedule;
  /**
   * How often service certificates are checked and renewed (those past half their lifetime, 12 h
   * of 24 h), by a function and a schedule of their own. Between 1 minute and 6 hours: a
   * renewal missed once must still leave time before expiry. Only with mesh keys.
   * @default 10 minutes
   */
  readonly renewalInterval?: Duration;
  /**
   * Reserved concurrency of the lifecycle function: a burst of events (a fleet scaling at
   * once) then queues in Lambda's async queue instead of contending on the same table items.
   * `null` leaves it unreserved (needed in accounts whose concurrency limit is 10); leaving the
   * prop out reserves the default.
   * @default 10
   */
  readonly lifecycleConcurrency?: number | null;
  /** How long logs are kept. @default ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Where alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The mesh CA and the sealing of service private keys (mutual TLS, served over SDS). `false`
   * turns both off; otherwise the given keys are used, or new ones created.
   * @default - a new symmetric key (DATA_KEY_ID) and a new ECC_NIST_P256 SIGN_VERIFY key (CA_KEY_ID)
   */
  readonly meshKeys?: false | { readonly dataKey?: kms.IKey; readonly caKey?: kms.IKey };
  /**
   * Turns on the push tier: ADS over gRPC on ECS Fargate behind an internal NLB, streams bound
   * to their service by mesh certificates (infra/xds-server.ts). Needs the mesh keys. Its tasks
   * wait for the mesh CA, which the first declared service creates: deploy at least one
   * MeshService with it (and make it depend on the service, as the example stack does), or the
   * first tasks fail their health checks and the deployment rolls back.
   * @default - REST polling only
   */
  readonly pushTier?: PushTierOptions;
  /**
   * The mesh's observability default, in the shape of a spec's `observability`: metrics of
   * every sidecar to CloudWatch (the DogStatsD sink and the CloudWatch agent beside Envoy) and
   * request tracing (X-Ray or OpenTelemetry); a service's own fields win. The functions render
   * with it (MESH_OBSERVABILITY) and the sidecar helpers add the agents it calls for.
   * @default - no metrics, no tracing unless a service declares them
   */
  readonly observability?: ObservabilitySpec;
  /**
   * The domain every service has a name under (`payments.<serviceDomain>`): transparent callers
   * route requests for these names, and MeshDns serves them. @default 'mesh.internal'
   */
  readonly serviceDomain?: string;
}

/** The defaults of the props that have one (shared/config.ts holds those the functions share). */
export const controlPlaneDefaults = {
  renewalInterval: Duration.minutes(10),
  snapshotCacheTtlMs: defaults.snapshotCacheTtlMs,
  meshTagKey: defaults.meshTagKey,
  lifecycleConcurrency: defaults.lifecycleConcurrency,
} as const;

const envoyDuration = /^\d+(\.\d{1,9})?s$/;
const ecsClusterArn = /^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/;
const known = (value: unknown) => value !== undefined && !(typeof value === 'string' && Token.isUnresolved(value));

/**
 * validateControlPlaneProps finds every prop a control plane cannot be built with, and names
 * each in the message, as aws-cdk-lib's own constructs do: the stack fails at synth, not at
 * the first poll. Values not known until deployment (tokens) are left to CloudFormation.
 */
/** A lowercase DNS name of two labels or more: the service domain. */
const serviceDomainPattern = /^(?=.{1,200}$)([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\.)+[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

export function validateControlPlaneProps(props: ControlPlaneProps): void {
  const problems: string[] = [];
  const check = (ok: boolean, prop: keyof ControlPlaneProps, message: string) => {
    if (!ok) problems.push(`${prop} ${message}`);
  };
  const { snapshotCacheTtlMs, lifecycleConcurrency, refreshDelay, requestTimeout, xdsClusterName, meshTagKey, meshName } = props;
  if (known(snapshotCacheTtlMs) && !Token.isUnresolved(snapshotCacheTtlMs)) {
    check(Number.isInteger(snapshotCacheTtlMs) && snapshotCacheTtlMs! >= 0, 'snapshotCacheTtlMs', `must be a whole number of ms, 0 or more (got ${snapshotCacheTtlMs})`);
  }
  if (lifecycleConcurrency !== undefined && lifecycleConcurrency !== null && !Token.isUnresolved(lifecycleConcurrency)) {
    check(Number.isInteger(lifecycleConcurrency) && lifecycleConcurrency >= 1, 'lifecycleConcurrency', `must be a whole number of 1 or more, or null for unreserved (got ${lifecycleConcurrency})`);
  }
  for (const [prop, value] of [['refreshDelay', refreshDelay], ['requestTimeout', requestTimeout]] as const) {
    if (known(value)) check(envoyDuration.test(value!), prop, `must be a duration in seconds as Envoy writes it, such as '5s' or '0.5s' (got '${value}')`);
  }
  if (props.routeDelivery !== undefined) check(routeDeliveries.includes(props.routeDelivery), 'routeDelivery', `must be ${routeDeliveries.join(' or ')} (got '${props.routeDelivery}')`);
  if (known(xdsClusterName)) check(/^[A-Za-z0-9_.-]{1,128}$/.test(xdsClusterName!), 'xdsClusterName', `must be 1 to 128 letters, digits, '_', '.' or '-' (got '${xdsClusterName}')`);
  if (known(meshTagKey)) check(meshTagKey!.length >= 1 && meshTagKey!.length <= 128 && !meshTagKey!.startsWith('aws:'), 'meshTagKey', `must be an EC2 tag key: 1 to 128 characters, not starting with 'aws:' (got '${meshTagKey}')`);
  if (known(meshName)) {
    try {
      parseMeshName(meshName!);
    } catch (err) {
      const reason = err instanceof ValidationError ? err.problems.map((p) => p.message).join('; ') : String(err);
      check(false, 'meshName', `${reason} (got '${meshName}')`);
    }
  }
  if (props.observability !== undefined) {
    const parsed = observabilitySchema.safeParse(props.observability);
    if (!parsed.success) check(false, 'observability', toProblems(parsed.error).map((p) => `${p.path || '(root)'}: ${p.message}`).join('; '));
  }
  if (known(props.egress)) check(props.egress === 'allow-declared' || props.egress === 'allow-all', 'egress', `must be 'allow-declared' or 'allow-all' (got '${props.egress}')`);
  if (known(props.systemCaBundlePath)) check(/^\/[\x21-\x7e]+$/.test(props.systemCaBundlePath!), 'systemCaBundlePath', `must be an absolute file path in the Envoy image (got '${props.systemCaBundlePath}')`);
  const renewal = props.renewalInterval;
  if (renewal !== undefined && !renewal.isUnresolved()) {
    const seconds = renewal.toSeconds();
    check(seconds >= 60 && seconds <= 6 * 3600 && seconds % 60 === 0, 'renewalInterval', `must be whole minutes from 1 minute to 6 hours (got ${seconds} s)`);
  }
  for (const [i, arn] of (props.ecsClusterArns ?? []).entries()) {
    if (known(arn)) check(ecsClusterArn.test(arn), 'ecsClusterArns', `[${i}] must be an ECS cluster ARN (got '${arn}')`);
  }
  if (known(props.serviceDomain)) check(serviceDomainPattern.test(props.serviceDomain!), 'serviceDomain', `must be a lowercase DNS name such as 'mesh.internal' (got '${props.serviceDomain}')`);
  if (props.pushTier && props.meshKeys === false) check(false, 'pushTier', 'needs the mesh keys (meshKeys: false turns them off): streams are bound to services by mesh certificates');
  if (problems.length > 0) throw new Error(`ControlPlane: ${problems.join('; ')}`);
}

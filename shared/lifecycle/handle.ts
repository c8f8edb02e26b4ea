import { EndpointChange } from '../model/endpoint';
import { defaultDrainSeconds } from '../model/defaults';
import { defaults } from '../config';
import { ServiceSpec, toProblems } from '../model/spec';
import { applyEndpointChanges } from '../state/endpoints';
import { CatalogRepository } from '../store/repositories';
import { isLifecycleActionEvent, LifecycleAction, parseLifecycleAction } from './autoscaling';
import {
  ec2InstanceStateChange,
  endpointChangeOfInstance,
  instanceOrderingKey,
  instancePhase,
  instanceStateRank,
  meshServiceOfInstance,
  parseEc2InstanceDetail,
  terminalOrderingKey,
} from './ec2-instance';
import { Deployment, ecsServiceOfTask, ecsTaskStateChange, endpointChangeOfTask, foreignTaskReason, parseEcsTaskDetail } from './ecs-task';
import { EventEnvelope, LifecycleEventError, eventEnvelopeSchema } from './envelope';
import { ReadinessScheduler, ReadinessStore, startLaunchReadiness } from './readiness';
import {
  ContainerInstanceDirectory,
  DrainScheduler,
  InstanceDescription,
  InstanceDirectory,
  LifecycleActions,
} from './ports';


/**
 * LifecycleDeps are the store and the AWS ports an event may need. Only the store is
 * required: ECS awsvpc tasks need nothing else. An event that needs a port that is not
 * configured (an EC2 event without an instance directory, say) is rejected with a clear error.
 */
export interface LifecycleDeps {
  readonly store: Pick<CatalogRepository, 'getService' | 'serviceForEcsService'> & ReadinessStore;
  /** Resolves container instances to IPs for bridge/host mode tasks (cached by the adapter). */
  readonly containerInstances?: ContainerInstanceDirectory;
  /** Looks up EC2 instances: EC2 state changes and Auto Scaling hooks. */
  readonly instances?: InstanceDirectory;
  /** Completes Auto Scaling lifecycle actions. */
  readonly lifecycleActions?: LifecycleActions;
  /** Runs the end of a terminate hook after the drain period. */
  readonly drainScheduler?: DrainScheduler;
  /** @default defaults.meshTagKey (shared/config.ts) */
  readonly meshTagKey?: string;
  /** When set, hooks with other names belong to other tools and are left alone. */
  readonly lifecycleHookNames?: ReadonlySet<string>;
  /** The control plane's account and region: ECS tasks elsewhere are not its fleet (see foreignTaskReason). */
  readonly deployment?: Deployment;
  /** Checks launching instances again until their Envoy has config (launch hooks with a ready timeout). */
  readonly readinessScheduler?: ReadinessScheduler;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

/** LifecycleOutcome reports what one event did, for logs, metrics and the local API's answer. */
export interface LifecycleOutcome {
  readonly eventId: string;
  /** `foreign`: a task of the right ECS service name from another cluster, account or region (counted apart). */
  readonly outcome: 'applied' | 'stale' | 'ignored' | 'foreign';
  readonly service?: string;
  readonly endpointId?: string;
  readonly reason?: string;
  /** Live endpoints of the service left out of its assignment, which would be too large to serve (see fittingAssignment). */
  readonly overLimit?: number;
  /**
   * For lifecycle hooks: completed now, found no longer waiting, scheduled after the drain,
   * waiting for the node's Envoy to have config, or abandoned because it never got it.
   */
  readonly completion?: 'completed' | 'expired' | 'scheduled' | 'waiting' | 'abandoned';
  readonly drainSeconds?: number;
}

/** parseEnvelope checks an event's envelope, naming the event (when it has an id) and the problem. */
export function parseEnvelope(raw: unknown): EventEnvelope {
  const parsed = eventEnvelopeSchema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const id =
    raw && typeof raw === 'object' && typeof (raw as { id?: unknown }).id === 'string' ? (raw as { id: string }).id : '(no id)';
  const problems = toProblems(parsed.error).map((p) => `${p.path || '(event)'}: ${p.message}`);
  throw new LifecycleEventError(id, `not an EventBridge event: ${problems.join('; ')}`);
}

const isKind = (event: EventEnvelope, kind: { source: string; detailType: string }) =>
  event.source === kind.source && event['detail-type'] === kind.detailType;

/**
 * validateLifecycleEvent checks an event without touching state: its envelope, and the detail
 * of the kinds we handle. Batches are validated whole before any event is applied.
 */
export function validateLifecycleEvent(raw: unknown): EventEnvelope {
  const event = parseEnvelope(raw);
  if (isKind(event, ecsTaskStateChange)) parseEcsTaskDetail(event);
  else if (isKind(event, ec2InstanceStateChange)) parseEc2InstanceDetail(event);
  else if (isLifecycleActionEvent(event)) parseLifecycleAction(event);
  return event;
}

/**
 * handleLifecycleEvent applies one AWS lifecycle event to the fleet's state: it maps the
 * event to the mesh service it concerns (ignoring, cheaply, what concerns no declared
 * service), turns it into an endpoint change and applies it, dropping it if it is stale.
 * An invalid or unresolvable event throws a LifecycleEventError and writes nothing; a
 * failing AWS or DynamoDB call throws its own error, so the platform retries the event.
 */
export async function handleLifecycleEvent(deps: LifecycleDeps, raw: unknown): Promise<LifecycleOutcome> {
  const event = parseEnvelope(raw);
  if (isKind(event, ecsTaskStateChange)) return handleEcsTask(deps, event);
  if (isKind(event, ec2InstanceStateChange)) return handleEc2Instance(deps, event);
  if (isLifecycleActionEvent(event)) return handleLifecycleAction(deps, event);
  return { eventId: event.id, outcome: 'ignored', reason: `no handler for ${event.source} "${event['detail-type']}"` };
}

async function handleEcsTask(deps: LifecycleDeps, event: EventEnvelope): Promise<LifecycleOutcome> {
  const detail = parseEcsTaskDetail(event);
  const ecsService = ecsServiceOfTask(detail);
  if (!ecsService) return { eventId: event.id, outcome: 'ignored', reason: 'task is not part of an ECS service' };
  const service = await deps.store.serviceForEcsService(ecsService);
  if (!service) return { eventId: event.id, outcome: 'ignored', reason: `ECS service "${ecsService}" is not in the mesh` };
  const record = await deps.store.getService(service);
  if (!record) return { eventId: event.id, outcome: 'ignored', reason: `mesh service "${service}" was deleted` };
  const foreign = foreignTaskReason(detail, record.spec, deps.deployment);
  if (foreign) return { eventId: event.id, outcome: 'foreign', service, endpointId: detail.taskArn, reason: foreign };
  const origin = { kind: 'ecs-task', id: event.id, time: event.time } as const;
  const change = await endpointChangeOfTask(origin, detail, record.spec, deps.containerInstances);
  if (!change) {
    return { eventId: event.id, outcome: 'ignored', service, endpointId: detail.taskArn, reason: `task is ${detail.lastStatus}` };
  }
  return applyOne(deps, event, change);
}

async function handleEc2Instance(deps: LifecycleDeps, event: EventEnvelope): Promise<LifecycleOutcome> {
  const detail = parseEc2InstanceDetail(event);
  const instanceId = detail['instance-id'];
  const phase = instancePhase(detail.state);
  if (phase === 'starting') {
    return { eventId: event.id, outcome: 'ignored', endpointId: instanceId, reason: `instance is ${detail.state}` };
  }
  const instance = await describeInstance(deps, event, instanceId);
  const spec = await meshSpecOfInstance(deps, instance);
  if (!spec.ok) return { eventId: event.id, outcome: 'ignored', endpointId: instanceId, reason: spec.reason };
  if (phase !== 'remove' && !instance.privateIp && instance.state === 'terminated') {
    // A late event of an instance that is gone: it has no address left, and its terminal tombstone decides.
    return { eventId: event.id, outcome: 'ignored', service: spec.spec.name, endpointId: instanceId, reason: 'instance is already terminated' };
  }
  const orderingKey =
    detail.state === 'terminated' ? terminalOrderingKey : instanceOrderingKey(event.time, instanceStateRank(detail.state));
  const change = endpointChangeOfInstance({
    instance,
    spec: spec.spec,
    // Running but held in a launch hook: not in service until the hook lets it go (readiness.ts).
    phase: phase === 'healthy' && instance.lifecycleState === 'Pending:Wait' ? 'unhealthy' : phase,
    source: { kind: 'ec2-instance', eventId: event.id, eventTime: event.time, orderingKey },
  });
  return applyOne(deps, event, change);
}

/**
 * handleLifecycleAction is how a VM joins or leaves without dropping requests. Launch:
 * register the instance healthy, then let it go in service. Terminate: drain it now, and
 * schedule the completion (and the endpoint's removal) after the service's drain period.
 * Instances of no declared service are let through at once: the hook is ours, nobody else
 * would complete it.
 */
async function handleLifecycleAction(deps: LifecycleDeps, event: EventEnvelope): Promise<LifecycleOutcome> {
  const action = parseLifecycleAction(event);
  const { hook } = action;
  if (deps.lifecycleHookNames && !deps.lifecycleHookNames.has(hook.lifecycleHookName)) {
    return { eventId: event.id, outcome: 'ignored', endpointId: hook.instanceId, reason: `hook "${hook.lifecycleHookName}" is not ours` };
  }
  const lifecycleActions = deps.lifecycleActions;
  if (!lifecycleActions) {
    throw new LifecycleEventError(event.id, 'cannot complete lifecycle actions: no Auto Scaling client is configured');
  }
  if (action.transition === 'launch' && action.readyTimeoutSeconds !== undefined && !deps.readinessScheduler) {
    throw new LifecycleEventError(event.id, 'cannot wait for the instance to be ready: no readiness scheduler (DRAIN_QUEUE_URL) is configured');
  }
  if (action.transition === 'terminate' && !deps.drainScheduler) {
    throw new LifecycleEventError(event.id, 'cannot drain before termination: no drain scheduler (DRAIN_QUEUE_URL) is configured');
  }
  const instance = await describeInstance(deps, event, hook.instanceId);
  const spec = await meshSpecOfInstance(deps, instance);
  if (!spec.ok) {
    const completion = await lifecycleActions.complete(hook, 'CONTINUE');
    return { eventId: event.id, outcome: 'ignored', endpointId: hook.instanceId, reason: spec.reason, completion };
  }
  const change = lifecycleActionChange(event, action, instance, spec.spec);
  const outcome = await applyOne(deps, event, change);
  if (action.transition === 'launch') {
    if (action.readyTimeoutSeconds === undefined) return { ...outcome, completion: await lifecycleActions.complete(hook, 'CONTINUE') };
    const ready = await startLaunchReadiness(
      { store: deps.store, lifecycleActions, scheduler: deps.readinessScheduler!, now: deps.now ?? (() => new Date()) },
      { eventId: event.id, eventTime: event.time, service: spec.spec.name, hook, timeoutSeconds: action.readyTimeoutSeconds },
    );
    if (ready.state === 'waiting') return { ...outcome, completion: 'waiting' };
    if (ready.state === 'timed-out') return { ...outcome, completion: 'abandoned', reason: ready.reason };
    return { ...outcome, completion: ready.action };
  }
  const drainSeconds = spec.spec.drainSeconds ?? defaultDrainSeconds;
  await deps.drainScheduler!.schedule({ eventId: event.id, service: spec.spec.name, hook }, drainSeconds);
  return { ...outcome, completion: 'scheduled', drainSeconds };
}

/**
 * lifecycleActionChange: a launching instance is healthy (ranked as `running`), or unhealthy
 * while the hook waits for its Envoy to have config (callers skip it until readiness.ts makes
 * it healthy); a terminating one is still running in EC2 but drains (ranked as `stopping`, so
 * it wins over a `running` event of the same second).
 */
function lifecycleActionChange(
  event: EventEnvelope,
  action: LifecycleAction,
  instance: InstanceDescription,
  spec: ServiceSpec,
): EndpointChange {
  const launch = action.transition === 'launch';
  const orderingKey = instanceOrderingKey(event.time, instanceStateRank(launch ? 'running' : 'stopping'));
  return endpointChangeOfInstance({
    instance,
    spec,
    phase: launch ? (action.readyTimeoutSeconds !== undefined ? 'unhealthy' : 'healthy') : 'draining',
    source: { kind: 'ec2-instance', eventId: event.id, eventTime: event.time, orderingKey },
  });
}

async function describeInstance(deps: LifecycleDeps, event: EventEnvelope, instanceId: string): Promise<InstanceDescription> {
  if (!deps.instances) {
    throw new LifecycleEventError(event.id, `cannot look up instance ${instanceId}: no EC2 client is configured`);
  }
  const instance = await deps.instances.describeInstance(instanceId);
  if (!instance) throw new LifecycleEventError(event.id, `instance ${instanceId} is not known to EC2`);
  return instance;
}

type SpecLookup = { ok: true; spec: ServiceSpec } | { ok: false; reason: string };

/** meshSpecOfInstance finds the declared service an instance's tag names (one GetItem), if any. */
async function meshSpecOfInstance(deps: LifecycleDeps, instance: InstanceDescription): Promise<SpecLookup> {
  const tagKey = deps.meshTagKey ?? defaults.meshTagKey;
  const service = meshServiceOfInstance(instance, tagKey);
  if (!service) return { ok: false, reason: `instance has no ${tagKey} tag` };
  const record = await deps.store.getService(service);
  if (!record) return { ok: false, reason: `mesh service "${service}" (tag ${tagKey}) is not declared` };
  return { ok: true, spec: record.spec };
}

async function applyOne(deps: LifecycleDeps, event: EventEnvelope, change: EndpointChange): Promise<LifecycleOutcome> {
  const [outcome] = await applyEndpointChanges(deps.store, [change]);
  const target = change.kind === 'upsert' ? change.endpoint : change;
  return {
    eventId: event.id,
    outcome: outcome!.result,
    service: target.service,
    endpointId: target.id,
    ...(outcome!.result === 'stale' ? { reason: 'a newer or equal version of this instance is already stored' } : {}),
    ...(outcome!.overLimit ? { overLimit: outcome!.overLimit } : {}),
  };
}

import { EndpointChange } from '../model/endpoint';
import { toProblems } from '../model/spec';
import { applyEndpointChanges } from '../state/endpoints';
import { MeshStore } from '../store/mesh-store';
import { ContainerInstanceResolver, ecsServiceOfTask, ecsTaskStateChange, endpointChangeOfTask, parseEcsTaskDetail } from './ecs-task';
import { EventEnvelope, LifecycleEventError, eventEnvelopeSchema } from './envelope';

export interface LifecycleDeps {
  readonly store: MeshStore;
  /** Looks up a container instance's private IP (bridge/host tasks); cached by the caller. */
  readonly resolveContainerInstance?: ContainerInstanceResolver;
}

/** LifecycleOutcome reports what one event did, for logs, metrics and the local API's answer. */
export interface LifecycleOutcome {
  readonly eventId: string;
  readonly outcome: 'applied' | 'stale' | 'ignored';
  readonly service?: string;
  readonly endpointId?: string;
  readonly reason?: string;
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

/**
 * validateLifecycleEvent checks an event without touching state: its envelope, and the detail
 * of the kinds we handle. Batches are validated whole before any event is applied.
 */
export function validateLifecycleEvent(raw: unknown): EventEnvelope {
  const event = parseEnvelope(raw);
  if (event.source === ecsTaskStateChange.source && event['detail-type'] === ecsTaskStateChange.detailType) {
    parseEcsTaskDetail(event);
  }
  return event;
}

/**
 * handleLifecycleEvent applies one AWS lifecycle event to the fleet's state: it maps the
 * event to the mesh service it concerns (ignoring, cheaply, what concerns no declared
 * service), turns it into an endpoint change and applies it, dropping it if it is stale.
 * An invalid or unresolvable event throws a LifecycleEventError and writes nothing.
 */
export async function handleLifecycleEvent(deps: LifecycleDeps, raw: unknown): Promise<LifecycleOutcome> {
  const event = parseEnvelope(raw);
  if (event.source === ecsTaskStateChange.source && event['detail-type'] === ecsTaskStateChange.detailType) {
    return handleEcsTask(deps, event);
  }
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
  const change = await endpointChangeOfTask(event, detail, record.spec, deps.resolveContainerInstance);
  if (!change) {
    return { eventId: event.id, outcome: 'ignored', service, endpointId: detail.taskArn, reason: `task is ${detail.lastStatus}` };
  }
  return applyOne(deps, event, change);
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
  };
}

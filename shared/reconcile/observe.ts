import { EndpointChange } from '../model/endpoint';
import { ServiceSpec } from '../model/spec';
import {
  endpointChangeOfInstance,
  instanceOrderingKey,
  instancePhase,
  instanceStateRank,
  InstanceState,
  instanceStates,
  terminalOrderingKey,
} from '../lifecycle/ec2-instance';
import { InstanceDescription } from '../lifecycle/ports';

/** Auto Scaling lifecycle states in which a running instance must not get new traffic. */
const outOfServiceStates = new Set(['Detaching', 'Detached', 'EnteringStandby', 'Standby']);

/**
 * observedInstancePhase reads what an instance's state means for traffic, Auto Scaling's view
 * included: EC2 says `running` while a terminate hook waits, so a reconciler that only read
 * EC2 would undo the hook's drain. A warm-pool instance is not in service at all, and one held
 * in a launch hook not yet (so the reconciler does not undo the launch hook's readiness gate).
 */
export function observedInstancePhase(instance: InstanceDescription): ReturnType<typeof instancePhase> {
  const phase = instancePhase(instance.state);
  const lifecycle = instance.lifecycleState ?? '';
  if (lifecycle.startsWith('Warmed:')) return phase === 'starting' ? phase : 'remove';
  if (phase === 'healthy' && (lifecycle.startsWith('Terminating') || outOfServiceStates.has(lifecycle))) return 'draining';
  // Held in a launch hook: not in service yet (the launch hook's readiness check makes it healthy).
  if (phase === 'healthy' && lifecycle === 'Pending:Wait') return 'unhealthy';
  return phase;
}

/**
 * instanceObservationChange is the change a reconciler run observes for one instance, or
 * undefined while it is still starting. Its ordering key is the observation time minus a
 * skew margin: an event from around the time of the listing wins over the listing.
 */
export function instanceObservationChange(
  instance: InstanceDescription,
  spec: ServiceSpec,
  run: { readonly runId: string; readonly observedAt: Date; readonly skewMs: number },
): EndpointChange | undefined {
  const phase = observedInstancePhase(instance);
  if (phase === 'starting') return undefined;
  const state = (instanceStates as readonly string[]).includes(instance.state) ? (instance.state as InstanceState) : 'running';
  const rank = phase === 'draining' && state === 'running' ? instanceStateRank('stopping') : instanceStateRank(state);
  const orderingKey =
    state === 'terminated' ? terminalOrderingKey : instanceOrderingKey(run.observedAt.getTime() - run.skewMs, rank);
  return endpointChangeOfInstance({
    instance,
    spec,
    phase,
    source: { kind: 'reconciler', eventId: run.runId, eventTime: run.observedAt.toISOString(), orderingKey },
  });
}

/** taskArnCluster reads the cluster name of a task ARN (undefined in the old format, which has none). */
export function taskArnCluster(arn: string): string | undefined {
  return /:task\/([^/]+)\/[^/]+$/.exec(arn)?.[1];
}

export const isTaskArn = (id: string) => /^arn:[^:]+:ecs:[^:]*:[^:]*:task\//.test(id);
export const isInstanceId = (id: string) => /^i-[0-9a-f]+$/.test(id);

/** clusterName reads a cluster's name from a name or an ARN. */
export const clusterName = (cluster: string) => cluster.slice(cluster.lastIndexOf('/') + 1);

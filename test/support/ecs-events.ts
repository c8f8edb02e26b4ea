import { randomUUID } from 'node:crypto';
import { ecsTaskEvent as documentedTaskEvent, TaskOptions } from '../shared/lifecycle/fixtures';

/**
 * ecsTaskEvent builds an ECS Task State Change for the local control plane's tests, through the
 * one builder of AWS-documented event shapes (test/shared/lifecycle/fixtures.ts), with a fresh
 * task and event id unless the test names them.
 */
export type EcsTaskEventOptions = Partial<Pick<TaskOptions, 'taskId' | 'version'>> &
  Omit<TaskOptions, 'taskId' | 'version'> & { eventId?: string; time?: string };

export function ecsTaskEvent(o: EcsTaskEventOptions): Record<string, unknown> {
  return documentedTaskEvent({
    ...o,
    taskId: o.taskId ?? randomUUID().replace(/-/g, ''),
    version: o.version ?? 2,
    eventId: o.eventId ?? randomUUID(),
  });
}

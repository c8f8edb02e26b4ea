import { AwsRequestError, AwsRequestOptions, awsSender } from '../../lib/aws-request';
import type { EcsApi, EcsTask } from './ecs';

/** A task's timestamp members (ECS's Task shape): the wire carries epoch seconds, the SDK and events ISO strings. */
const taskDates = ['connectivityAt', 'createdAt', 'executionStoppedAt', 'pullStartedAt', 'pullStoppedAt', 'startedAt', 'stoppedAt', 'stoppingAt'];

/**
 * ecsJson makes the functions' ECS calls (DescribeContainerInstances, ListTasks, DescribeTasks)
 * as signed requests in ECS's JSON 1.1 protocol (`X-Amz-Target:
 * AmazonEC2ContainerServiceV20141113.<Operation>`) on functions/lib/aws-request.ts. A task's
 * timestamps (epoch seconds on the wire) become ISO strings, as the SDK's Dates become them
 * once serialised and as events carry them. Errors are AwsRequestErrors named by ECS's type.
 * test/functions/lean-lifecycle-clients.test.ts compares it with the SDK's client on the same answers.
 */
export function ecsJson(options: AwsRequestOptions): EcsApi {
  const send = awsSender('ecs', options, (status, text) => {
    const answer = parseObject(text);
    const type = String(answer.__type ?? (status >= 500 ? 'ServiceUnavailable' : `Http${status}`)).replace(/^.*#/, '');
    return new AwsRequestError(type, status, String(answer.message ?? answer.Message ?? `ECS answered ${status}`));
  });
  const call = async (operation: string, input: object) =>
    parseObject(
      await send({ 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `AmazonEC2ContainerServiceV20141113.${operation}` }, JSON.stringify(input)),
    );
  return {
    describeContainerInstances: (input) => call('DescribeContainerInstances', input),
    listTasks: (input) => call('ListTasks', input),
    async describeTasks(input) {
      const out = await call('DescribeTasks', input);
      return { ...out, tasks: ((out.tasks as EcsTask[] | undefined) ?? []).map(withIsoDates) };
    },
  };
}

/** withIsoDates writes a task's timestamps, and its containers' managed agents' `lastStartedAt`, as ISO strings. */
export function withIsoDates(task: EcsTask): EcsTask {
  const copy: Record<string, unknown> = { ...task };
  for (const key of taskDates) if (typeof copy[key] === 'number') copy[key] = isoOf(copy[key] as number);
  if (Array.isArray(copy.containers)) {
    copy.containers = (copy.containers as Record<string, unknown>[]).map((c) =>
      Array.isArray(c.managedAgents)
        ? {
            ...c,
            managedAgents: (c.managedAgents as Record<string, unknown>[]).map((a) =>
              typeof a.lastStartedAt === 'number' ? { ...a, lastStartedAt: isoOf(a.lastStartedAt) } : a,
            ),
          }
        : c,
    );
  }
  return copy as EcsTask;
}

/** isoOf reads epoch seconds as the SDK does (rounded to the millisecond). */
const isoOf = (seconds: number) => new Date(Math.round(seconds * 1000)).toISOString();

function parseObject(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

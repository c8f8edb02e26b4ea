import * as z from '../shared/model/zod';
import { HttpError, HttpResponse, parseJsonBody } from '../shared/api/http';
import { ValidationError } from '../shared/errors';
import { toProblems } from '../shared/model/spec';
import { InstanceDescription, InstanceDirectory, LifecycleActions, LifecycleHookRef } from '../shared/lifecycle/ports';

/**
 * LocalInstances stands in for EC2 and Auto Scaling on the local runner, so EC2 state changes
 * and lifecycle hooks can be tried over HTTP as they run in AWS: `PUT /local/instances/{id}`
 * describes an instance (what DescribeInstances would say), then `POST /events` delivers its
 * events. Completed lifecycle actions are recorded and listed by `GET /local/instances`.
 */
export class LocalInstances implements InstanceDirectory, LifecycleActions {
  private readonly instances = new Map<string, InstanceDescription>();
  private readonly completed: (LifecycleHookRef & { result: string })[] = [];

  async describeInstance(instanceId: string): Promise<InstanceDescription | undefined> {
    return this.instances.get(instanceId);
  }

  async complete(hook: LifecycleHookRef, result: 'CONTINUE' | 'ABANDON'): Promise<'completed' | 'expired'> {
    if (this.completed.some((c) => c.lifecycleActionToken === hook.lifecycleActionToken)) return 'expired';
    this.completed.push({ ...hook, result });
    return 'completed';
  }

  /** route serves `/local/instances[/{id}]`: PUT an instance, GET them all, DELETE one. */
  route(method: string, segments: readonly string[], body: string, bodyLimit: number): HttpResponse {
    if (segments.length === 2) {
      if (method !== 'GET') throw new HttpError(405, `${method} is not allowed on /local/instances; use GET`);
      return { status: 200, body: { instances: [...this.instances.values()], completedLifecycleActions: this.completed } };
    }
    const id = segments[2]!;
    if (!instanceId.test(id)) throw new HttpError(400, `"${id}" is not an EC2 instance id (i- and 8 or 17 hex digits)`);
    if (method === 'DELETE') {
      if (!this.instances.delete(id)) throw new HttpError(404, `instance ${id} is not described here`);
      return { status: 200, body: { deleted: id } };
    }
    if (method !== 'PUT') throw new HttpError(405, `${method} is not allowed on /local/instances/${id}; use PUT or DELETE`);
    const parsed = localInstanceSchema.safeParse(parseJsonBody(body, bodyLimit));
    if (!parsed.success) throw new ValidationError('invalid instance', toProblems(parsed.error));
    const created = !this.instances.has(id);
    this.instances.set(id, { instanceId: id, ...parsed.data });
    return { status: created ? 201 : 200, body: this.instances.get(id) };
  }
}

const instanceId = /^i-([0-9a-f]{8}|[0-9a-f]{17})$/;

/** What DescribeInstances (and Auto Scaling) would say about a local instance. */
const localInstanceSchema = z.strictObject({
  state: z.enum(['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated']),
  privateIp: z.optional(z.ipv4()),
  zone: z.optional(z.string().check(z.regex(/^[a-z0-9-]{1,64}$/, 'must be an availability zone'))),
  instanceType: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  tags: z._default(z.record(z.string().check(z.minLength(1), z.maxLength(128)), z.string().check(z.maxLength(256))), {}),
  lifecycleState: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
});

import { defaultDrainSeconds } from '../model/defaults';
import { EndpointChange } from '../model/endpoint';
import { ecsServiceNameOf, ServiceSpec } from '../model/spec';
import { EcsTaskDetail, ecsServiceOfTask, endpointChangeOfTask, parseTaskDescription } from '../lifecycle/ecs-task';
import { meshServiceOfInstance } from '../lifecycle/ec2-instance';
import { defaults } from '../config';
import { ContainerInstanceDirectory, EcsTaskInventory, InstanceDescription, InstanceInventory } from '../lifecycle/ports';
import { EndpointStore, refreshEndpointAssignment } from '../state/endpoints';
import { AssignmentRepository, CatalogRepository } from '../store/repositories';
import { checkAssignment } from './assignment-drift';
import { ServiceRecord, StoredEndpoint } from '../store/records';
import { clusterName, instanceObservationChange, isInstanceId, isTaskArn, taskArnCluster } from './observe';
import { planRepairs, Repair } from './plan';

export interface ReconcileDeps {
  readonly store: Pick<CatalogRepository, 'listServices'> & EndpointStore & Pick<AssignmentRepository, 'deleteAssignmentShards'>;
  /** Lists ECS services' tasks; without it ECS endpoints are left as they are. */
  readonly tasks?: EcsTaskInventory;
  /** Resolves container instances for bridge/host mode tasks. */
  readonly containerInstances?: ContainerInstanceDirectory;
  /** Lists tagged EC2 instances; without it EC2 endpoints are left as they are. */
  readonly instances?: InstanceInventory;
  /** @default defaults.meshTagKey (shared/config.ts) */
  readonly meshTagKey?: string;
  readonly now?: () => Date;
  /**
   * afterService runs once per service, inside the run's bounded concurrency, after its
   * repairs: per-service work of the same run (the handler's convergence check) rides on the
   * same pass instead of listing the fleet again. Its failures are reported like a repair's.
   */
  readonly afterService?: (service: string) => Promise<void>;
}

export interface ReconcileOptions {
  /** Names this run in the endpoints it writes (their source.eventId). */
  readonly runId: string;
  /** @default 60 — state younger than this is never taken for vanished (listings lag). */
  readonly settleSeconds?: number;
  /** @default 60 — an instance observation ranks this much before the listing, so events around it win. */
  readonly observationSkewSeconds?: number;
  /** @default 8 — services reconciled at once (each holds only its own endpoints while it is). */
  readonly concurrency?: number;
  /** @default defaults.maxAssignmentBytes — the served cap renders are cut to (state/endpoints.ts fittingEndpoints). */
  readonly maxAssignmentBytes?: number;
  /**
   * @default 0.5 — the share of a service's live endpoints one run may drain or remove on the
   * listing's word alone. Past it (an empty or partial listing that still succeeded), each
   * vanished endpoint needs a second, independent observation (DescribeTasks or
   * DescribeInstances by id) that it is gone; the others are held and reported.
   */
  readonly maxVanishShare?: number;
}

/** DriftCounts counts the repairs a run applied: each is a way the table had drifted from AWS. */
export interface DriftCounts {
  added: number;
  updated: number;
  drained: number;
  removed: number;
}

export interface ReconcileReport {
  readonly runId: string;
  readonly services: number;
  readonly drift: DriftCounts;
  /** Services whose assignment was written (the repaired endpoints folded in, or rendered in full). */
  readonly rendered: number;
  /**
   * Services whose stored assignment had drifted from their endpoints (a fold that stopped
   * half-way, a missing shard, a digest off) and was rendered in full, one line each.
   */
  readonly assignmentDrift: readonly string[];
  /** Tagged instances whose mesh service is not declared. */
  readonly undeclaredInstances: number;
  /** What could not be listed or repaired; the rest of the run went on. */
  readonly errors: readonly string[];
  /** Endpoints the valve kept although the listing no longer shows them (see maxVanishShare), one line each. */
  readonly held: readonly string[];
  /** Live endpoints left out of the assignments it rendered: they would make them too large to serve (fittingAssignment). */
  readonly overLimit: number;
}

const driftOf: Record<Repair['kind'], keyof DriftCounts> = {
  add: 'added',
  update: 'updated',
  remove: 'removed',
  drain: 'drained',
  expire: 'removed',
};

/**
 * reconcileFleet is the rediscovery: it lists what runs in AWS (the tasks of every cluster a
 * declared service names, every instance carrying the mesh tag), diffs it with the table service by
 * service and repairs the difference (see planRepairs for the rules). It is idempotent and
 * safe while events arrive: its writes are ordered like events' or compare-and-set on what
 * it read. A listing that fails leaves that part of the table alone and is reported.
 */
export async function reconcileFleet(deps: ReconcileDeps, options: ReconcileOptions): Promise<ReconcileReport> {
  const now = deps.now?.() ?? new Date();
  const tagKey = deps.meshTagKey ?? defaults.meshTagKey;
  const errors: string[] = [];
  const services = await deps.store.listServices();
  const declared = new Set(services.map((s) => s.spec.name));

  let instancesByService: Map<string, InstanceDescription[]> | undefined;
  let undeclaredInstances = 0;
  if (deps.instances) {
    try {
      instancesByService = new Map();
      for (const instance of await deps.instances.listTaggedInstances(tagKey)) {
        const service = meshServiceOfInstance(instance, tagKey);
        if (!service) continue;
        if (!declared.has(service)) undeclaredInstances++;
        pushTo(instancesByService, service, instance);
      }
    } catch (err) {
      instancesByService = undefined;
      errors.push(`listing EC2 instances tagged ${tagKey}: ${describe(err)}`);
    }
  }

  const drift: DriftCounts = { added: 0, updated: 0, drained: 0, removed: 0 };
  const held: string[] = [];
  const assignmentDrift: string[] = [];
  let rendered = 0;
  let overLimit = 0;
  // One cluster at a time: its tasks are listed, its services reconciled, and the listing
  // dropped before the next, so a run holds one cluster's tasks, not the fleet's.
  for (const [cluster, members] of servicesByCluster(services)) {
    const tasksByCluster = deps.tasks && cluster !== undefined ? await listClusters(deps.tasks, members, options.runId, errors) : new Map<string, ClusterTasks>();
    await forEachLimited(members, options.concurrency ?? 8, async (record) => {
      try {
        const result = await reconcileService(deps, options, now, record, tasksByCluster, instancesByService, errors, held);
        for (const [kind, n] of Object.entries(result.drift) as [keyof DriftCounts, number][]) drift[kind] += n;
        if (result.rendered) rendered++;
        if (result.assignmentDrift) assignmentDrift.push(`service ${record.spec.name}: ${result.assignmentDrift}`);
        overLimit += result.overLimit;
        await deps.afterService?.(record.spec.name);
      } catch (err) {
        errors.push(`service ${record.spec.name}: ${describe(err)}`);
      }
    });
  }
  return {
    runId: options.runId,
    services: services.length,
    drift,
    rendered,
    assignmentDrift: assignmentDrift.sort(),
    undeclaredInstances,
    errors,
    held: held.sort(),
    overLimit,
  };
}

/**
 * ClusterTasks are one cluster's listed tasks, by ECS service name (from the task's `group`),
 * and the ARNs it listed but could not describe: unknown, so never vanished.
 */
interface ClusterTasks {
  readonly byService: Map<string, EcsTaskDetail[]>;
  readonly undescribed: ReadonlySet<string>;
}

const clusterOf = (spec: ServiceSpec) => spec.ecs?.cluster ?? 'default';

/** servicesByCluster groups the services by the ECS cluster they name (sorted), those with none last (key undefined). */
function servicesByCluster(services: readonly ServiceRecord[]): [string | undefined, ServiceRecord[]][] {
  const groups = new Map<string | undefined, ServiceRecord[]>();
  for (const record of services) pushTo(groups, record.spec.ecs ? clusterName(clusterOf(record.spec)) : undefined, record);
  const named = [...groups].filter(([k]) => k !== undefined).sort(([a], [b]) => (a! < b! ? -1 : 1));
  return groups.has(undefined) ? [...named, [undefined, groups.get(undefined)!]] : named;
}

/**
 * listClusters lists every cluster a declared service names, once each. A cluster that
 * cannot be listed is absent from the result, so its services' ECS endpoints are left alone.
 */
async function listClusters(
  inventory: EcsTaskInventory,
  services: readonly ServiceRecord[],
  runId: string,
  errors: string[],
): Promise<Map<string, ClusterTasks>> {
  const clusters = new Map<string, string>();
  for (const { spec } of services) if (spec.ecs) clusters.set(clusterName(clusterOf(spec)), clusterOf(spec));
  const out = new Map<string, ClusterTasks>();
  for (const [name, cluster] of [...clusters].sort(([a], [b]) => (a < b ? -1 : 1))) {
    try {
      const byService = new Map<string, EcsTaskDetail[]>();
      const listing = await inventory.listClusterTasks(cluster);
      for (const raw of listing.tasks) {
        const detail = parseTaskDescription(runId, raw);
        const ecsService = ecsServiceOfTask(detail);
        if (ecsService) pushTo(byService, ecsService, detail);
      }
      if (listing.undescribed.length > 0) {
        errors.push(`cluster ${cluster}: ${listing.undescribed.length} listed task(s) could not be described; left as they are`);
      }
      out.set(name, { byService, undescribed: new Set(listing.undescribed) });
    } catch (err) {
      errors.push(`listing ECS tasks in cluster ${cluster}: ${describe(err)}`);
    }
  }
  return out;
}

async function reconcileService(
  deps: ReconcileDeps,
  options: ReconcileOptions,
  now: Date,
  record: ServiceRecord,
  tasksByCluster: Map<string, ClusterTasks>,
  instancesByService: Map<string, InstanceDescription[]> | undefined,
  errors: string[],
  held: string[],
): Promise<{ drift: DriftCounts; rendered: boolean; overLimit: number; assignmentDrift?: string }> {
  const { spec } = record;
  // The table is read after the listings: what an event wrote since is younger than the settle time, and left alone.
  // One Query reads the endpoints with the assignment folded from them, to check it too.
  const state = await deps.store.readEndpointState(spec.name);
  const stored = state.endpoints;
  const maxBytes = options.maxAssignmentBytes ?? defaults.maxAssignmentBytes;
  const check = checkAssignment(spec.name, state, maxBytes);
  const observed = new Map<string, EndpointChange | undefined>();
  const origin = { kind: 'reconciler', id: options.runId, time: now.toISOString() } as const;

  const ecsCluster = spec.ecs ? clusterName(clusterOf(spec)) : undefined;
  const clusterTasks = ecsCluster === undefined ? undefined : tasksByCluster.get(ecsCluster);
  // Listed but not described: seen, so not vanished, and not known well enough to change.
  for (const s of stored) if (clusterTasks?.undescribed.has(s.id)) observed.set(s.id, undefined);
  for (const detail of clusterTasks?.byService.get(ecsServiceNameOf(spec)) ?? []) {
    try {
      observed.set(detail.taskArn, await endpointChangeOfTask(origin, detail, spec, deps.containerInstances));
    } catch (err) {
      observed.set(detail.taskArn, undefined); // seen, so not vanished; but not resolvable now
      errors.push(`service ${spec.name}: task ${detail.taskArn}: ${describe(err)}`);
    }
  }
  if (instancesByService) {
    for (const instance of instancesByService.get(spec.name) ?? []) {
      try {
        observed.set(instance.instanceId, instanceObservationChange(instance, spec, observation(options, now)));
      } catch (err) {
        observed.set(instance.instanceId, undefined);
        errors.push(`service ${spec.name}: instance ${instance.instanceId}: ${describe(err)}`);
      }
    }
  }

  // A task of another cluster is covered too when the spec names its cluster: it is never
  // observed there, so an endpoint a foreign task left behind is drained and removed.
  const boundToCluster = spec.ecs?.cluster !== undefined;
  const covers = (id: string) =>
    (clusterTasks !== undefined && isTaskArn(id) && (boundToCluster || (taskArnCluster(id) ?? ecsCluster) === ecsCluster)) ||
    (instancesByService !== undefined && isInstanceId(id));
  const planned = planRepairs({
    stored,
    observed,
    covers,
    runId: options.runId,
    now,
    settleMs: (options.settleSeconds ?? 60) * 1000,
    drainMs: drainSecondsOf(spec) * 1000,
  });
  const repairs = await throughValve(deps, options, spec, stored, planned, held);

  const drift: DriftCounts = { added: 0, updated: 0, drained: 0, removed: 0 };
  const repaired: string[] = [];
  for (const repair of repairs) {
    const result =
      repair.kind === 'drain' || repair.kind === 'expire'
        ? await deps.store.replaceLiveEndpoint(repair.change, repair.expected)
        : await deps.store.applyEndpointChange(repair.change);
    if (result === 'applied') {
      drift[driftOf[repair.kind]]++;
      repaired.push(idOf(repair));
    }
  }
  if (check.leftovers.length > 0) await deps.store.deleteAssignmentShards(spec.name, check.leftovers);
  // A service with no endpoint ever stored has nothing to render, and has not drifted.
  const drifted = state.head === undefined && stored.length === 0 ? undefined : check.render;
  // Each repaired endpoint is folded in like an event's; a drifted assignment is rendered in full.
  let render = drifted !== undefined;
  for (const id of repaired) {
    if (render) break;
    render = (await deps.store.foldEndpoint(spec.name, id, { maxBytes })).kind === 'needs-render';
  }
  const overLimit = render ? (await refreshEndpointAssignment(deps.store, spec.name, maxBytes)).overLimit : 0;
  return { drift, rendered: render || repaired.length > 0, overLimit, ...(drifted ? { assignmentDrift: drifted } : {}) };
}

const drainSecondsOf = (spec: ServiceSpec) => spec.drainSeconds ?? defaultDrainSeconds;

const vanishing = (r: Repair) => r.kind === 'drain' || r.kind === 'expire';
const idOf = (r: Repair) => (r.change.kind === 'upsert' ? r.change.endpoint.id : r.change.id);

/**
 * throughValve lets a run drain or remove at most `maxVanishShare` of a service's live
 * endpoints on the listing's word. A listing can succeed and still be wrong (empty, partial,
 * eventually consistent): past the share, only endpoints that a second, independent lookup
 * confirms gone (DescribeTasks or DescribeInstances by id) go; the rest are held, reported
 * and left for a later run. A lookup that fails confirms nothing.
 */
async function throughValve(
  deps: ReconcileDeps,
  options: ReconcileOptions,
  spec: ServiceSpec,
  stored: readonly StoredEndpoint[],
  planned: readonly Repair[],
  held: string[],
): Promise<readonly Repair[]> {
  const leaving = planned.filter(vanishing).map(idOf);
  const live = stored.filter((s) => !s.removed).length;
  if (leaving.length <= Math.floor(live * (options.maxVanishShare ?? 0.5))) return planned;
  const confirmed = new Set<string>();
  const tasks = leaving.filter(isTaskArn);
  const instances = leaving.filter(isInstanceId);
  try {
    if (tasks.length > 0 && deps.tasks?.confirmGone) {
      for (const id of await deps.tasks.confirmGone(clusterOf(spec), tasks)) confirmed.add(id);
    }
    if (instances.length > 0 && deps.instances?.confirmGone) {
      for (const id of await deps.instances.confirmGone(instances)) confirmed.add(id);
    }
  } catch {
    confirmed.clear(); // unknown, not gone
  }
  for (const id of leaving) {
    if (!confirmed.has(id)) held.push(`service ${spec.name}: ${id} no longer listed, not confirmed gone (${leaving.length} of ${live} live would go)`);
  }
  return planned.filter((r) => !vanishing(r) || confirmed.has(idOf(r)));
}

function observation(options: ReconcileOptions, now: Date) {
  return { runId: options.runId, observedAt: now, skewMs: (options.observationSkewSeconds ?? 60) * 1000 };
}

function pushTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}

/** forEachLimited runs `fn` over `items` with at most `limit` running at once. */
async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

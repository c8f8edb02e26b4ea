import { RenderSettings } from '../render/settings';
import { RebuildRepository, RebuildRun, RebuildState, StoredRebuild } from '../store/rebuilds';
import { RebuildStore, rebuildFleet } from './rebuild';

/** RebuildDriverStore is what the driver reads and writes: the fleet (rebuild.ts) and the rebuild state. */
export type RebuildDriverStore = RebuildStore & RebuildRepository;

export interface RebuildDriverDeps {
  readonly store: RebuildDriverStore;
  readonly settings: RenderSettings;
  /** The render digest of these settings and this code (render-digest.ts `renderDigest`). */
  readonly digest: string;
  readonly now: () => number;
  /** Names this invocation in the lease (a Lambda request id). */
  readonly owner: string;
}

export interface RebuildSliceOptions {
  /** When to stop taking pages (epoch ms): the invocation's end less a generous reserve. */
  readonly deadlineMs: number;
  /** Until when the lease holds (epoch ms): at least the invocation's own end, so no other driver advances the run while this one may still write. */
  readonly leaseUntilMs: number;
  /** @default 25 */
  readonly pageSize?: number;
  /** @default 4 */
  readonly concurrency?: number;
  /** Assignments of one page rendered at once (rebuild.ts). @default 8 */
  readonly assignmentConcurrency?: number;
  /** Services per checkpoint: progress is written after each chunk. @default pageSize × concurrency × 2 */
  readonly chunkSize?: number;
  /** Retry rounds for the services of failed pages before the run finishes with them reported. @default 3 */
  readonly maxRetryRounds?: number;
  readonly maxAssignmentBytes?: number;
}

/**
 * RebuildAdvance is what one invocation of the driver did: `idle` (nothing to rebuild), `busy`
 * (another invocation holds the lease), `advanced` (a slice rendered, more to do), `finished`
 * (this slice ended the run), `lost` (the run was taken over or replaced meanwhile).
 */
export interface RebuildAdvance {
  readonly outcome: 'idle' | 'busy' | 'advanced' | 'finished' | 'lost';
  readonly state?: RebuildState;
  /** What this slice rendered. */
  readonly slice: { readonly services: number; readonly errors: readonly string[] };
}

const maxErrorsKept = 20;
/** At most this many services wait for a retry: past it, the cursor stays before the chunk that failed and the next slice takes it again. */
const maxFailedKept = 1000;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * needsRun says which run a state calls for under a digest: none while it is current, one
 * when the digest differs from the last finished rebuild's (or none was ever recorded), or an
 * operator asked for one.
 */
export function needsRun(state: RebuildState | undefined, digest: string): RebuildRun['reason'] | undefined {
  if (state?.current && state.current.digest === digest) return undefined;
  if (state?.current) return 'render-changed';
  if (state?.requestedAt !== undefined) return 'requested';
  if (state?.renderedDigest === undefined) return 'first';
  return state.renderedDigest === digest ? undefined : 'render-changed';
}

function newRun(digest: string, reason: RebuildRun['reason'], nowMs: number): RebuildRun {
  return {
    id: `${digest}@${iso(nowMs)}`,
    digest,
    reason,
    startedAt: iso(nowMs),
    updatedAt: iso(nowMs),
    passed: false,
    slices: 0,
    services: 0,
    snapshots: 0,
    assignments: 0,
    overLimit: 0,
    failed: [],
    retrying: [],
    retryRounds: 0,
    errorCount: 0,
    errors: [],
    status: 'running',
  };
}

/**
 * advanceRebuild is one invocation's part of a fleet rebuild. It claims the run under a lease
 * (a conditional write on the state's revision: of concurrent invocations one wins, the others
 * answer `busy`), starting one when the render digest differs from the last finished
 * rebuild's or an operator asked; then renders chunk after chunk of services in name order
 * (rebuild.ts: pages, bounded concurrency) until its deadline, writing the cursor after each
 * chunk, so a slice that dies loses at most one chunk; a later slice renders it again, which
 * is harmless (a render is a pure function of the stored state, every write conditional).
 * Services of failed pages are retried in rounds after the first pass; those that still fail
 * are reported when the run finishes. The slice ends by releasing the lease, so the next
 * invocation (the schedule) takes over at once. A run whose digest is no longer this code's
 * (another deploy meanwhile) is replaced by a run towards the new digest.
 */
export async function advanceRebuild(deps: RebuildDriverDeps, options: RebuildSliceOptions): Promise<RebuildAdvance> {
  const { store, now, owner } = deps;
  const empty = { services: 0, errors: [] as string[] };
  const read = await store.getRebuild();
  const claimed = claim(read, deps.digest, owner, now(), options.leaseUntilMs);
  if (claimed === 'idle' || claimed === 'busy') return { outcome: claimed, ...(read ? { state: read.state } : {}), slice: empty };
  if (!(await store.putRebuild(claimed, read?.revision ?? 0))) return { outcome: 'busy', slice: empty };
  let stored: StoredRebuild = { state: claimed, revision: (read?.revision ?? 0) + 1 };
  const runId = claimed.current!.id;

  const pageSize = Math.max(1, options.pageSize ?? 25);
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const chunkSize = Math.max(1, options.chunkSize ?? pageSize * concurrency * 2);
  const maxRounds = options.maxRetryRounds ?? 3;
  const sliceErrors: string[] = [];
  let sliceServices = 0;
  let names: string[] | undefined;
  let ended = false;

  while (!ended && now() < options.deadlineMs) {
    let run = stored.state.current!;
    let chunk: string[] = [];
    if (!run.passed) {
      names ??= (await store.listServices()).map((r) => r.spec.name).sort();
      const after = run.cursor;
      const from = after === undefined ? 0 : names.findIndex((n) => n > after);
      chunk = from < 0 ? [] : names.slice(from, from + chunkSize);
      if (chunk.length === 0) run = { ...run, passed: true };
    }
    const fromRetries = run.passed;
    if (fromRetries) {
      if (run.retrying.length === 0 && run.failed.length > 0 && run.retryRounds < maxRounds) {
        run = { ...run, retrying: run.failed, failed: [], retryRounds: run.retryRounds + 1 };
      }
      chunk = run.retrying.slice(0, chunkSize);
    }
    if (chunk.length === 0) {
      // Every service had its turn and its retries: the run is over.
      const at = iso(now());
      const finished: RebuildRun = { ...run, finishedAt: at, updatedAt: at, status: run.failed.length > 0 ? 'done-with-errors' : 'done', slices: run.slices + 1 };
      const result = await checkpoint(store, stored, runId, owner, (state) => {
        const { current: _current, lease: _lease, requestedAt, ...rest } = state;
        return {
          ...rest,
          renderedDigest: finished.digest,
          last: finished,
          // A request made after this run started asks for another.
          ...(requestedAt !== undefined && requestedAt > finished.startedAt ? { requestedAt } : {}),
        };
      });
      if (!result) return { outcome: 'lost', slice: { services: sliceServices, errors: sliceErrors } };
      return { outcome: 'finished', state: result.state, slice: { services: sliceServices, errors: sliceErrors } };
    }

    const report = await rebuildFleet(store, deps.settings, {
      names: chunk,
      pageSize,
      concurrency,
      ...(options.assignmentConcurrency !== undefined ? { assignmentConcurrency: options.assignmentConcurrency } : {}),
      deadlineMs: options.deadlineMs,
      now,
      ...(options.maxAssignmentBytes !== undefined ? { maxAssignmentBytes: options.maxAssignmentBytes } : {}),
    });
    // rebuildFleet sorts the names it gets: `next` (when it stopped early) is in that order.
    const sorted = [...chunk].sort();
    const stoppedAt = report.next;
    const done = stoppedAt === undefined ? sorted : sorted.filter((n) => stoppedAt !== '' && n <= stoppedAt);
    const doneSet = new Set(done);
    const failed = report.failed.filter((n) => doneSet.has(n));
    // Past the bound of services kept for retry, the chunk is not counted: the next slice takes it again.
    const keep = failed.length <= maxFailedKept - run.failed.length;
    const counted = keep ? done : [];
    sliceServices += counted.length - (keep ? failed.length : 0);
    sliceErrors.push(...report.errors);
    const progressed: RebuildRun = {
      ...run,
      updatedAt: iso(now()),
      ...(!fromRetries && counted.length > 0 ? { cursor: counted.at(-1)! } : {}),
      ...(fromRetries ? { retrying: run.retrying.filter((n) => !(keep && doneSet.has(n))) } : {}),
      services: run.services + counted.length - (keep ? failed.length : 0),
      snapshots: run.snapshots + report.snapshots,
      assignments: run.assignments + report.assignments,
      overLimit: run.overLimit + report.overLimit,
      failed: keep ? [...new Set([...run.failed, ...failed])].sort() : run.failed,
      errorCount: run.errorCount + report.errors.length,
      errors: [...run.errors, ...report.errors].slice(-maxErrorsKept),
    };
    if (!keep || done.length < chunk.length) ended = true;
    const result = await checkpoint(store, stored, runId, owner, (state) => ({ ...state, current: progressed }));
    if (!result) return { outcome: 'lost', slice: { services: sliceServices, errors: sliceErrors } };
    stored = result;
  }
  // Out of time: count the slice, hand the lease back and leave the rest to the next invocation.
  const result = await checkpoint(store, stored, runId, owner, (state) => {
    const { lease: _lease, ...rest } = state;
    return { ...rest, current: { ...state.current!, slices: state.current!.slices + 1 } };
  });
  if (!result) return { outcome: 'lost', slice: { services: sliceServices, errors: sliceErrors } };
  return { outcome: 'advanced', state: result.state, slice: { services: sliceServices, errors: sliceErrors } };
}

/**
 * claim decides what an invocation does with the state it read: nothing (`idle`), wait
 * (`busy`: another holds a live lease), or take the lease on the run to advance (the state
 * to write), starting or replacing the run as `needsRun` says.
 */
function claim(read: StoredRebuild | undefined, digest: string, owner: string, nowMs: number, leaseUntilMs: number): RebuildState | 'idle' | 'busy' {
  const state = read?.state ?? {};
  const reason = needsRun(state, digest);
  if (!state.current && reason === undefined) return 'idle';
  if (state.lease && state.lease.owner !== owner && Date.parse(state.lease.until) > nowMs) return 'busy';
  const lease = { owner, until: iso(leaseUntilMs) };
  if (reason === undefined) return { ...state, lease };
  const { requestedAt, ...rest } = state;
  return {
    ...rest,
    // A run replaced by a newer digest keeps its request, if one started it.
    ...(reason === 'render-changed' && requestedAt !== undefined ? { requestedAt } : {}),
    current: newRun(digest, reason, nowMs),
    lease,
  };
}

/**
 * checkpoint writes the state `change` makes of the stored one, under the revision read. When
 * someone else wrote meanwhile (an operator's request), it reads again and retries if this
 * invocation still holds the lease on the same run; otherwise the run was taken over or
 * replaced, and it answers undefined.
 */
async function checkpoint(
  store: RebuildRepository,
  stored: StoredRebuild,
  runId: string,
  owner: string,
  change: (state: RebuildState) => RebuildState,
): Promise<StoredRebuild | undefined> {
  let base = stored;
  for (let attempt = 0; attempt < 5; attempt++) {
    if (base.state.current?.id !== runId || base.state.lease?.owner !== owner) return undefined;
    const next = change(base.state);
    if (await store.putRebuild(next, base.revision)) return { state: next, revision: base.revision + 1 };
    const again = await store.getRebuild();
    if (!again) return undefined;
    base = again;
  }
  return undefined;
}

/**
 * requestRebuild records an operator's request for a rebuild (`POST /rebuild`): the next
 * invocation of the driver starts one, even if the render digest has not changed. A run under
 * way is not interrupted; a request made while one runs starts another after it.
 */
export async function requestRebuild(store: RebuildRepository, now: Date): Promise<RebuildState> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await store.getRebuild();
    const state: RebuildState = { ...(read?.state ?? {}), requestedAt: now.toISOString() };
    if (await store.putRebuild(state, read?.revision ?? 0)) return state;
  }
  throw new RebuildContendedError();
}

/** RebuildContendedError says the rebuild state kept changing under a request: try again. */
export class RebuildContendedError extends Error {
  override readonly name = 'RebuildContendedError';
  constructor() {
    super('the rebuild state changed under five attempts to record the request: try again');
  }
}

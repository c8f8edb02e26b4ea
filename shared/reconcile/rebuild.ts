import { defaults } from '../config';
import { RenderSettings } from '../render/settings';
import { refreshEndpointAssignment } from '../state/endpoints';
import { SnapshotStore, refreshSnapshots } from '../state/snapshots';
import { AssignmentRepository, CatalogRepository } from '../store/repositories';

/** RebuildStore is what a rebuild reads (the catalog) and writes (every snapshot and assignment). */
export type RebuildStore = Pick<CatalogRepository, 'listServices'> & SnapshotStore & Pick<AssignmentRepository, 'renderAssignment'>;

export interface RebuildOptions {
  /** @default 25 — services rendered together (their specs and callers read in a few batch reads). */
  readonly pageSize?: number;
  /** @default 4 — pages in flight at once. */
  readonly concurrency?: number;
  /**
   * @default 8 — assignments of one page rendered at once (each is a few requests in a row:
   * read the endpoints, write the head and the shards); 1 renders them one after the other.
   */
  readonly assignmentConcurrency?: number;
  /** Render these services (any order) instead of every declared one: a driver's slice, or its retries. */
  readonly names?: readonly string[];
  /** Resume after this service (the `next` a previous, stopped rebuild returned). */
  readonly startAfter?: string;
  /**
   * When to stop taking new pages (epoch ms): a rebuild that would outrun its function's
   * timeout stops in time and returns where to resume (`next`).
   */
  readonly deadlineMs?: number;
  readonly now?: () => number;
  /** @default defaults.maxAssignmentBytes */
  readonly maxAssignmentBytes?: number;
}

export interface RebuildReport {
  readonly services: number;
  readonly snapshots: number;
  readonly assignments: number;
  readonly overLimit: number;
  readonly errors: readonly string[];
  /** The services of the pages that failed (each named in `errors`), to render again later. */
  readonly failed: readonly string[];
  /** The last service a stopped rebuild finished its page of: pass it as `startAfter` to go on. Absent when done. */
  readonly next?: string;
}

/**
 * rebuildFleet renders every service's snapshot and assignment again from the stored state,
 * as after a change of defaults or a redeploy that changes rendering: page by page (each page's
 * specs and callers read in batches, its snapshots rendered, checked and stored, its
 * assignments rendered in shards), a few pages at once, so it holds a few pages' worth of
 * state, never the fleet's. It only keeps the service names of the catalog in memory. A page
 * that fails is reported and the rest go on; past its deadline it stops between pages and
 * says where to resume. The driver (rebuild-driver.ts) runs it a slice per invocation.
 */
export async function rebuildFleet(store: RebuildStore, settings: RenderSettings, options: RebuildOptions = {}): Promise<RebuildReport> {
  const now = options.now ?? Date.now;
  const names = options.names ? [...options.names].sort() : (await store.listServices()).map((r) => r.spec.name).sort();
  const from = options.startAfter === undefined ? 0 : names.findIndex((n) => n > options.startAfter!);
  const remaining = from < 0 ? [] : names.slice(from);
  const size = Math.max(1, options.pageSize ?? 25);
  const pages: string[][] = [];
  for (let i = 0; i < remaining.length; i += size) pages.push(remaining.slice(i, i + size));
  const errors: string[] = [];
  const failed: string[] = [];
  const finished = new Array<boolean>(pages.length).fill(false);
  let snapshots = 0;
  let assignments = 0;
  let overLimit = 0;
  let nextPage = 0;
  const worker = async () => {
    while (nextPage < pages.length) {
      if (options.deadlineMs !== undefined && now() >= options.deadlineMs) return;
      const index = nextPage++;
      const page = pages[index]!;
      try {
        const stored = await refreshSnapshots(store, page, settings);
        snapshots += stored.length;
        let nextService = 0;
        const assign = async () => {
          while (nextService < page.length) {
            const service = page[nextService++]!;
            const rendered = await refreshEndpointAssignment(store, service, options.maxAssignmentBytes ?? defaults.maxAssignmentBytes);
            if (rendered.written) assignments++;
            overLimit += rendered.overLimit;
          }
        };
        // Every worker settles before the page counts as done or failed: no write of it outlives its report.
        const settled = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(options.assignmentConcurrency ?? 8, page.length)) }, assign));
        const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
        if (failure) throw failure.reason;
      } catch (err) {
        failed.push(...page);
        errors.push(`services ${page[0]}..${page[page.length - 1]}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
      }
      finished[index] = true;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, pages.length)) }, worker));
  // Resume after the last page of the unbroken run of finished ones (pages run out of order).
  const done = finished.findIndex((f) => !f);
  const next = done < 0 ? undefined : done === 0 ? (options.startAfter ?? '') : pages[done - 1]!.at(-1);
  return { services: names.length, snapshots, assignments, overLimit, errors, failed: failed.sort(), ...(done >= 0 && next !== undefined ? { next } : {}) };
}

import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { RebuildAdvance, RebuildDriverStore, advanceRebuild } from '../../shared/reconcile/rebuild-driver';
import { renderDigest } from '../../shared/reconcile/render-digest';
import { RenderSettings } from '../../shared/render/settings';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

/** The rebuild function's defaults: what infra/rebuild.ts deploys it with. */
export const rebuildFunctionDefaults = {
  /** The function's timeout (infra/rebuild.ts). */
  timeoutSeconds: 180,
  /** How much of an invocation is kept back from rendering: no page starts after the timeout less this. */
  reserveMs: 30_000,
  /** How long past the invocation's end its lease still holds (clock skew between invocations). */
  leaseSlackMs: 5_000,
  pageSize: 25,
  concurrency: 4,
} as const;

export interface RebuildHandlerOptions {
  readonly reserveMs?: number;
  readonly pageSize?: number;
  readonly concurrency?: number;
  readonly now?: () => number;
}

/**
 * createRebuildHandler advances the fleet rebuild by one slice per invocation (shared/reconcile/
 * rebuild-driver.ts), on a schedule: an invocation with nothing to do reads one item and
 * returns. A deploy that changes the render digest (settings or rendering code), or an
 * operator's `POST /rebuild`, starts a run, and each tick renders pages until the timeout less
 * `reserveMs`, then hands the lease back for the next tick. It publishes RebuildPending (1
 * while a run is under way), RebuildAgeSeconds (how long the run under way has been going: the
 * stall alarm), RebuildServices and RebuildErrors of the slice, and RebuildFailedServices when a
 * run finishes with services that kept failing. Page failures do not fail the invocation: the
 * run retries them itself.
 */
export function createRebuildHandler(deps: { readonly store: RebuildDriverStore; readonly settings: RenderSettings }, options: RebuildHandlerOptions = {}) {
  const logger = createLogger('rebuild');
  const metrics = createMetrics('rebuild');
  // The digest of this code and these settings: computed once per container.
  const digest = renderDigest(deps.settings);
  const now = options.now ?? Date.now;
  const handle = async (_event: unknown, context: Context): Promise<RebuildAdvance> => {
    const start = now();
    const remaining = context.getRemainingTimeInMillis();
    const advance = await advanceRebuild(
      { store: deps.store, settings: deps.settings, digest, now, owner: context.awsRequestId },
      {
        deadlineMs: start + remaining - (options.reserveMs ?? rebuildFunctionDefaults.reserveMs),
        leaseUntilMs: start + remaining + rebuildFunctionDefaults.leaseSlackMs,
        pageSize: options.pageSize ?? rebuildFunctionDefaults.pageSize,
        concurrency: options.concurrency ?? rebuildFunctionDefaults.concurrency,
      },
    );
    const current = advance.state?.current;
    metrics.addMetric('RebuildPending', MetricUnit.Count, current ? 1 : 0);
    metrics.addMetric('RebuildAgeSeconds', MetricUnit.Seconds, current ? Math.max(0, Math.round((now() - Date.parse(current.startedAt)) / 1000)) : 0);
    metrics.addMetric('RebuildServices', MetricUnit.Count, advance.slice.services);
    metrics.addMetric('RebuildErrors', MetricUnit.Count, advance.slice.errors.length);
    if (advance.outcome === 'finished') {
      const last = advance.state!.last!;
      metrics.addMetric('RebuildFailedServices', MetricUnit.Count, last.failed.length);
      logger.info('rebuild finished', { ...last, errors: last.errors.slice(0, 20), failed: last.failed.slice(0, 50) });
    } else if (advance.outcome === 'advanced') {
      logger.info('rebuild advanced', { id: current?.id, cursor: current?.cursor, services: current?.services, slice: advance.slice.services, ms: now() - start });
    }
    if (advance.slice.errors.length > 0) logger.warn('rebuild pages failed (retried later in the run)', { errors: advance.slice.errors.slice(0, 20) });
    return advance;
  };
  return middy(handle).use(telemetry(logger, metrics));
}

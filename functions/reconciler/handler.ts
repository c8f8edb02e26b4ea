import middy from '@middy/core';
import type { Context, ScheduledEvent } from 'aws-lambda';
import { reconcileFleet, ReconcileDeps, ReconcileOptions, ReconcileReport } from '../../shared/reconcile/reconcile';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';
import { ServiceConvergence, nodesReport } from '../../shared/api/nodes';

/** How much of the invocation's time is kept back from the convergence check, for the run's end and its report. */
const convergenceCheckReserveMs = 20_000;

/** ReconcileIncompleteError says a run repaired what it could but some listings or repairs failed. */
export class ReconcileIncompleteError extends Error {
  override readonly name = 'ReconcileIncompleteError';
  constructor(readonly report: ReconcileReport) {
    super(`reconcile run ${report.runId} left ${report.errors.length} problem(s): ${report.errors.slice(0, 5).join('; ')}`);
  }
}

/**
 * createReconcilerHandler runs the fleet reconciliation on a schedule and publishes its drift
 * as metrics (DriftAdded, DriftUpdated, DriftDrained, DriftRemoved): steady non-zero drift
 * means events are being lost. A run with errors still repairs the rest, then fails, so the
 * failure is visible and Lambda retries it (a run is idempotent). Certificates are renewed by
 * a function of their own (functions/renewal), never here.
 */
export function createReconcilerHandler(
  deps: ReconcileDeps & { readonly store: ReconcileDeps['store'] & Parameters<typeof nodesReport>[0] },
  options: Omit<ReconcileOptions, 'runId'> = {},
) {
  const logger = createLogger('reconciler');
  const metrics = createMetrics('reconciler');
  const handle = async (event: ScheduledEvent, context: Context): Promise<ReconcileReport> => {
    const runId = `reconcile-${event?.id ?? context.awsRequestId}`;
    // Nodes behind the latest version, checked service by service in the same pass (one
    // listing of the fleet, bounded concurrency), while the invocation has time to spare.
    const behindBy = new Map<string, ServiceConvergence['behind']>();
    let unchecked = 0;
    // Each service's newest change and how long it took to reach its nodes (the slowest is reported).
    const convergences: Pick<ServiceConvergence, 'lastChange'>[] = [];
    const afterService = async (service: string) => {
      if (context.getRemainingTimeInMillis() < convergenceCheckReserveMs) {
        unchecked++;
        return;
      }
      for (const s of (await nodesReport(deps.store, service, { plaintext: false })).services) {
        if (s.behind.length > 0) behindBy.set(s.service, s.behind);
        if (s.lastChange) convergences.push(s);
      }
    };
    const report = await reconcileFleet({ ...deps, afterService }, { ...options, runId });
    metrics.addMetric('DriftAdded', MetricUnit.Count, report.drift.added);
    metrics.addMetric('DriftUpdated', MetricUnit.Count, report.drift.updated);
    metrics.addMetric('DriftDrained', MetricUnit.Count, report.drift.drained);
    metrics.addMetric('DriftRemoved', MetricUnit.Count, report.drift.removed);
    metrics.addMetric('ReconcileErrors', MetricUnit.Count, report.errors.length);
    metrics.addMetric('UndeclaredInstances', MetricUnit.Count, report.undeclaredInstances);
    // The valve held endpoints a listing no longer shows, unconfirmed: a wrong listing, or a real outage.
    metrics.addMetric('VanishHeld', MetricUnit.Count, report.held.length);
    metrics.addMetric('EndpointsOverLimit', MetricUnit.Count, report.overLimit);
    // Assignments found out of step with their endpoints (a fold that stopped half-way) and rendered again.
    metrics.addMetric('AssignmentDrift', MetricUnit.Count, report.assignmentDrift.length);
    if (report.assignmentDrift.length > 0) logger.warn('assignments rendered again', { drift: report.assignmentDrift.slice(0, 20) });
    if (report.held.length > 0) logger.warn('reconcile valve held endpoints', { held: report.held.slice(0, 20) });
    logger.info('reconcile run', { ...report, errors: report.errors.slice(0, 20) });
    // Nodes behind the latest version: alarmed when it stays above 0 (a node that rejects its
    // config, or whose polls are refused, never catches up).
    const behind = [...behindBy.values()].reduce((sum, b) => sum + b.length, 0);
    metrics.addMetric('NodesBehind', MetricUnit.Count, behind);
    if (unchecked > 0) logger.warn('convergence not checked for every service: the run ran short of time', { unchecked });
    const convergence = slowestConvergenceMs(convergences);
    if (convergence !== undefined) metrics.addMetric('ConvergenceMs', MetricUnit.Milliseconds, convergence);
    if (behind > 0) {
      logger.warn('nodes behind the latest version', {
        services: [...behindBy].slice(0, 50).map(([service, b]) => ({ service, behind: b.slice(0, 10) })),
      });
    }
    if (report.errors.length > 0) throw new ReconcileIncompleteError(report);
    return report;
  };
  return middy(handle).use(telemetry(logger, metrics));
}

/**
 * slowestConvergenceMs is how long the newest change of the slowest service took to reach all
 * the nodes it reached (the dashboard's convergence panel), or undefined while no service has one.
 */
export function slowestConvergenceMs(services: readonly Pick<ServiceConvergence, 'lastChange'>[]): number | undefined {
  const times = services.flatMap((s) => (s.lastChange ? [s.lastChange.convergenceMs.max] : []));
  return times.length > 0 ? Math.max(...times) : undefined;
}

import { ServiceSpec } from '../model/spec';
import { RolloutSpec } from '../model/spec-rollout';
import { contentVersion } from '../envoy/version';
import { RenderSettings } from '../render/settings';
import { CatalogStore, DeclareCertificates, declareService } from '../state/catalog';
import { RolloutRepository } from '../store/rollouts';
import { Next, RolloutDecision, RolloutState, SubsetStats, decide, withdraw } from './decide';
import { rolloutSpecOf } from '../model/rollouts';

/**
 * RolloutMetrics is where the controller reads how the new subset is doing: what the service's
 * endpoints carrying `labels` served between two instants. In AWS, the data plane's metrics in
 * CloudWatch (functions/rollouts); locally, what a test or an operator feeds (local/).
 */
export interface RolloutMetrics {
  subsetStats(query: { readonly service: string; readonly labels: Readonly<Record<string, string>>; readonly from: Date; readonly to: Date }): Promise<SubsetStats | undefined>;
}

export interface RolloutControllerDeps {
  readonly store: CatalogStore & RolloutRepository;
  readonly metrics: RolloutMetrics;
  readonly settings: RenderSettings;
  readonly now: () => Date;
  /** Passed on to declareService, so a step issues certificates as any declare does. */
  readonly certificates?: DeclareCertificates;
}

export interface RolloutOutcome {
  readonly id: string;
  readonly decision: RolloutDecision;
  /** False when another run moved the rollout first: this decision was not recorded. */
  readonly recorded: boolean;
}

/**
 * runRollouts moves every progressing rollout that is due by one decision (decide.ts). A step
 * is an ordinary spec change: the split of each caller's dependency on the service is set to
 * the step's percent with declareService, so versions, make-before-break and node status work
 * as for an operator's change. The spec is written before the state: a run that stops between
 * them is repeated by the next run, and setting a split to the weights it has changes nothing.
 */
export async function runRollouts(deps: RolloutControllerDeps): Promise<RolloutOutcome[]> {
  const outcomes: RolloutOutcome[] = [];
  for (const { state, revision } of await deps.store.listRollouts()) {
    if (state.status !== 'progressing') continue;
    const now = deps.now();
    const owner = await deps.store.getService(state.owner);
    const spec = rolloutSpecOf(owner?.spec, state.service);
    let next: Next | undefined;
    if (!spec || contentVersion(spec) !== state.specHash) {
      next = withdraw(state, now, spec ? 'the rollout was changed: the new one starts over' : `the rollout is no longer declared by "${state.owner}"`);
    } else {
      const stats = state.step < 0 ? undefined : await deps.metrics.subsetStats({ service: state.service, labels: spec.to, from: new Date(state.stepStartedAt), to: now });
      next = decide(spec, state, stats, now);
      if (next && (next.decision.action === 'start' || next.state.percent !== state.percent)) await applyPercent(deps, state, spec, next.decision.percent);
    }
    if (!next) continue;
    if (next.state === state) {
      outcomes.push({ id: state.id, decision: next.decision, recorded: false });
      continue;
    }
    outcomes.push({ id: state.id, decision: next.decision, recorded: await deps.store.putRollout(next.state, revision) });
  }
  return outcomes;
}

/**
 * applyPercent sets `percent` of the traffic to `to` (the rest to `from`) in the split of each
 * caller the rollout moves: the owner's dependency, or, for a rollout on the service, every
 * caller's dependency on it that declares no rollout of its own.
 */
async function applyPercent(deps: RolloutControllerDeps, state: RolloutState, spec: RolloutSpec, percent: number): Promise<void> {
  const onService = state.owner === state.service;
  const callers = onService ? await deps.store.listDependents(state.service) : [state.owner];
  const records = await deps.store.getServices(callers);
  const split = { subsets: [{ labels: spec.from, weight: 100 - percent }, { labels: spec.to, weight: percent }] };
  for (const caller of [...callers].sort()) {
    const record = records.get(caller);
    if (!record) continue;
    const changed = withSplit(record.spec, state.service, split, onService);
    if (!changed) continue;
    await declareService(deps.store, changed, deps.settings, { expectedName: caller, ...(deps.certificates ? { certificates: deps.certificates } : {}) });
  }
}

/** withSplit is the caller's spec with its dependency on `service` split so; undefined when it already is, or it rolls out on its own. */
function withSplit(spec: ServiceSpec, service: string, split: NonNullable<ServiceSpec['dependencies'][number]['split']>, onService: boolean): ServiceSpec | undefined {
  let changed = false;
  const dependencies = spec.dependencies.map((dep) => {
    if (dep.service !== service || (onService && dep.rollout)) return dep;
    if (JSON.stringify(dep.split?.subsets) === JSON.stringify(split.subsets) && dep.split?.total === undefined) return dep;
    changed = true;
    return { ...dep, split };
  });
  return changed ? { ...spec, dependencies } : undefined;
}

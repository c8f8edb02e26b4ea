import { RolloutSpec, rolloutDefaults } from '../model/spec-rollout';
import { RolloutDecision, RolloutState, SubsetStats } from '../model/rollout-state';

export type { RolloutDecision, RolloutState, RolloutStatus, SubsetStats } from '../model/rollout-state';

/**
 * The rollout's state machine, pure: given a rollout's spec, its recorded state, what the new
 * subset measured since the step began, and the time, what happens next. The controller
 * (controller.ts) reads the state and the metrics, applies the decision as a spec change, and
 * records it.
 */

export const historyLimit = 50;

/** A decision and the state it leads to; undefined when nothing is due. */
export interface Next {
  readonly decision: RolloutDecision;
  readonly state: RolloutState;
}

/**
 * decide takes a progressing rollout one step: the first step at once; later, once the step has
 * run `intervalSeconds`, judge what the new subset served in it (`stats`, or undefined when
 * nothing was measured): over the error-rate or p99 bound, back to 0 % at once; within them on
 * at least `minRequests`, the next step (or complete after 100 %); fewer requests, hold (and
 * judge again on the next run, over the longer window).
 */
export function decide(spec: RolloutSpec, state: RolloutState, stats: SubsetStats | undefined, now: Date): Next | undefined {
  if (state.status !== 'progressing') return undefined;
  const at = now.toISOString();
  if (state.step < 0) return step(state, { at, action: 'start', percent: spec.steps[0]!, reason: `first step: ${spec.steps[0]} % to the new subset` }, 0, at);
  if (now.getTime() < Date.parse(state.stepStartedAt) + spec.intervalSeconds * 1000) return undefined;

  const minRequests = spec.minRequests ?? rolloutDefaults.minRequests;
  const requests = stats?.requests ?? 0;
  const measured = stats ? { ...stats, errorRatePercent: requests === 0 ? 0 : round2((100 * stats.errors) / requests) } : undefined;
  if (measured && requests > 0 && measured.errorRatePercent > spec.maxErrorRatePercent) {
    return rollBack(state, at, `error rate ${measured.errorRatePercent} % > ${spec.maxErrorRatePercent} % at ${state.percent} %`, measured);
  }
  if (measured && spec.maxP99LatencyMs !== undefined && measured.p99Ms !== undefined && measured.p99Ms > spec.maxP99LatencyMs) {
    return rollBack(state, at, `p99 latency ${measured.p99Ms} ms > ${spec.maxP99LatencyMs} ms at ${state.percent} %`, measured);
  }
  if (requests < minRequests) {
    // Recorded once per interval at most: a quiet service does not fill the history with holds.
    const last = state.history[state.history.length - 1];
    const decision: RolloutDecision = { at, action: 'hold', percent: state.percent, reason: `${requests} requests to the new subset, fewer than ${minRequests} to judge`, ...(measured ? { measured } : {}) };
    const quiet = last?.action === 'hold' && Date.parse(last.at) + spec.intervalSeconds * 1000 > now.getTime();
    return { decision, state: quiet ? state : { ...state, history: trim([...state.history, decision]) } };
  }
  const within = `error rate ${measured!.errorRatePercent} %${measured!.p99Ms !== undefined ? `, p99 ${measured!.p99Ms} ms` : ''} on ${requests} requests`;
  if (state.step >= spec.steps.length - 1) {
    const decision: RolloutDecision = { at, action: 'complete', percent: state.percent, reason: `${within} at ${state.percent} %: done`, measured: measured! };
    return { decision, state: { ...state, status: 'completed', history: trim([...state.history, decision]) } };
  }
  const next = spec.steps[state.step + 1]!;
  return step(state, { at, action: 'advance', percent: next, reason: `${within} at ${state.percent} %: next step ${next} %`, measured: measured! }, state.step + 1, at);
}

/** withdraw ends a rollout whose spec was removed or replaced: the split stays where it is. */
export function withdraw(state: RolloutState, now: Date, reason: string): Next {
  const decision: RolloutDecision = { at: now.toISOString(), action: 'withdraw', percent: state.percent, reason };
  return { decision, state: { ...state, status: 'withdrawn', history: trim([...state.history, decision]) } };
}

function step(state: RolloutState, decision: RolloutDecision, index: number, at: string): Next {
  return { decision, state: { ...state, step: index, percent: decision.percent, stepStartedAt: at, history: trim([...state.history, decision]) } };
}

function rollBack(state: RolloutState, at: string, reason: string, measured: NonNullable<RolloutDecision['measured']>): Next {
  const decision: RolloutDecision = { at, action: 'roll-back', percent: 0, reason, measured };
  return { decision, state: { ...state, status: 'rolled-back', percent: 0, history: trim([...state.history, decision]) } };
}

const trim = (history: readonly RolloutDecision[]) => history.slice(-historyLimit);
const round2 = (n: number) => Math.round(n * 100) / 100;

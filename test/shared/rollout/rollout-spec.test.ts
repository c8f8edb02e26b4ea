import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { RolloutState } from '../../../shared/model/rollout-state';
import { declaredRollouts } from '../../../shared/model/rollouts';
import { decide } from '../../../shared/rollout/decide';
import { problemsOf } from '../../support/spec-problems';

const rollout = { from: { revision: '1' }, to: { revision: '2' }, steps: [10, 50, 100], intervalSeconds: 300, maxErrorRatePercent: 1 };
const caller = (dep: Record<string, unknown>) => ({ name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [{ service: 'orders', localPort: 7000, ...dep }] });

describe('a rollout in the spec', () => {
  it('is accepted on a dependency (with a split over its two subsets) and on a service, and each gets an id', () => {
    const split = { subsets: [{ labels: { revision: '1' }, weight: 50 }, { labels: { revision: '2' }, weight: 50 }] };
    const web = parseServiceSpec(caller({ rollout, split }));
    const orders = parseServiceSpec({ name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'grpc', rollout });
    expect(declaredRollouts(web).map((r) => [r.id, r.owner, r.service])).toEqual([['web/orders', 'web', 'orders']]);
    expect(declaredRollouts(orders).map((r) => [r.id, r.owner, r.service])).toEqual([['orders', 'orders', 'orders']]);
    // The hash follows the rollout only: a split the controller writes does not restart it.
    expect(declaredRollouts(parseServiceSpec(caller({ rollout }))!)[0]!.specHash).toBe(declaredRollouts(web)[0]!.specHash);
  });

  it.each<[string, Record<string, unknown>, { path: string; message: string }[]]>([
    ['steps that fall', { rollout: { ...rollout, steps: [50, 10, 100] } }, [{ path: 'dependencies.0.rollout.steps.1', message: '10 does not rise above the step before it (50)' }]],
    ['steps that stop short', { rollout: { ...rollout, steps: [10, 50] } }, [{ path: 'dependencies.0.rollout.steps', message: 'must end at 100 (all traffic on the new subset)' }]],
    ['the same subset twice', { rollout: { ...rollout, to: { revision: '1' } } }, [{ path: 'dependencies.0.rollout.to', message: 'selects the same subset as dependencies.0.rollout.from' }]],
    ['an interval shorter than the controller runs', { rollout: { ...rollout, intervalSeconds: 10 } }, [{ path: 'dependencies.0.rollout.intervalSeconds', message: 'must be at least 60 s (the controller runs once a minute)' }]],
    ['a step of 0 %', { rollout: { ...rollout, steps: [0, 100] } }, [{ path: 'dependencies.0.rollout.steps.0', message: 'must be a percent from 1 to 100' }]],
    [
      'a split over other subsets',
      { rollout, split: { subsets: [{ labels: { revision: '1' }, weight: 50 }, { labels: { revision: '3' }, weight: 50 }] } },
      [{ path: 'dependencies.0.split.subsets', message: 'must be over exactly dependencies.0.rollout.from and dependencies.0.rollout.to while a rollout moves it' }],
    ],
  ])('refuses %s, naming the field', (_what, dep, expected) => {
    expect(problemsOf(caller(dep))).toEqual(expected);
  });
});

describe('decide', () => {
  const t0 = new Date('2030-01-01T00:00:00Z');
  const at = (s: number) => new Date(t0.getTime() + s * 1000);
  const state = (over: Partial<RolloutState> = {}): RolloutState => ({
    id: 'web/orders',
    owner: 'web',
    service: 'orders',
    specHash: 'h',
    status: 'progressing',
    step: 0,
    percent: 10,
    stepStartedAt: t0.toISOString(),
    history: [],
    ...over,
  });

  it('judges a step on the error rate with requests counted, not on errors alone', () => {
    // 1 error in 1,000 is 0.1 %: within 1 %.
    expect(decide(rollout, state(), { requests: 1000, errors: 1 }, at(300))?.decision).toMatchObject({ action: 'advance', percent: 50 });
    // Exactly at the bound is within it; above it rolls back.
    expect(decide(rollout, state(), { requests: 1000, errors: 10 }, at(300))?.decision.action).toBe('advance');
    expect(decide(rollout, state(), { requests: 1000, errors: 11 }, at(300))?.decision).toMatchObject({ action: 'roll-back', percent: 0 });
  });

  it('rolls back on a bad error rate even before minRequests, and holds a quiet step without filling the history', () => {
    expect(decide(rollout, state(), { requests: 20, errors: 5 }, at(300))?.decision.action).toBe('roll-back');
    const first = decide(rollout, state(), { requests: 20, errors: 0 }, at(300))!;
    expect(first.decision.action).toBe('hold');
    expect(first.state.history).toHaveLength(1);
    const again = decide(rollout, first.state, { requests: 40, errors: 0 }, at(360))!;
    expect(again.state).toBe(first.state);
    expect(decide(rollout, first.state, { requests: 40, errors: 0 }, at(600))!.state.history).toHaveLength(2);
  });

  it('does nothing to a rollout that is not progressing, or whose step is not up', () => {
    expect(decide(rollout, state({ status: 'completed' }), { requests: 1000, errors: 0 }, at(3600))).toBeUndefined();
    expect(decide(rollout, state(), { requests: 1000, errors: 0 }, at(299))).toBeUndefined();
  });
});

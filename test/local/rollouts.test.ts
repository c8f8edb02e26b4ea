import { LocalControlPlane, startLocalControlPlane } from '../../local/server';
import { EnvoyResource } from '../../shared/envoy/resources';
import { RolloutState } from '../../shared/model/rollout-state';
import { request } from '../support/http-client';
import { runMeshctl } from '../support/meshctl';

/**
 * Progressive delivery end to end on the local control plane: the rollout controller (the
 * same code as the scheduled function) moves a caller's split step by step on metrics fed
 * over `POST /local/metrics`, holds without enough traffic, completes, and rolls back at once
 * on a bad step. The controller's clock is injected and moved by the test; nothing waits.
 */
describe('a progressive rollout on the local control plane', () => {
  let cp: LocalControlPlane;
  let now = new Date('2030-01-01T00:00:00Z');
  const advance = (seconds: number) => {
    now = new Date(now.getTime() + seconds * 1000);
  };

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0, now: () => now, rolloutCheckIntervalMs: 3_600_000 });
  });
  afterAll(async () => cp.close());

  const put = async (spec: Record<string, unknown>) => {
    const res = await request(cp.url, 'PUT', `/services/${String(spec.name)}`, { inboundPort: 15000, appPort: 8080, protocol: 'http', ...spec });
    expect({ status: res.status, body: res.status < 300 ? 'ok' : res.body }).toEqual({ status: res.status < 300 ? res.status : 200, body: 'ok' });
  };
  const feed = async (service: string, revision: string, requests: number, errors: number, p99Ms = 50) => {
    const res = await request(cp.url, 'POST', '/local/metrics', { service, labels: { revision }, requests, errors, p99Ms, at: new Date(now.getTime() - 1000).toISOString() });
    expect(res.status).toBe(200);
  };
  /** The weights the caller's Envoys are served for the dependency: its rendered route's weighted clusters. */
  const servedWeights = async (caller: string, dependency: string) => {
    const snapshot = await cp.runtime.store.getSnapshot(caller);
    const route = snapshot!.resources.routes!.find((r: EnvoyResource) => r.name === `outbound_${dependency}`)!;
    const action = (route.virtual_hosts as { routes: { route: { weighted_clusters?: { clusters: { weight: number; metadata_match: unknown }[] } } }[] }[])[0]!.routes.at(-1)!.route;
    return (action.weighted_clusters?.clusters ?? []).map((c) => c.weight);
  };
  const rollout = async (name: string, id: string) => {
    const res = await request(cp.url, 'GET', `/services/${name}`);
    return ((res.body as { rollouts?: RolloutState[] }).rollouts ?? []).find((r) => r.id === id);
  };
  /** run runs the controller once and keeps the outcomes of one rollout (others of earlier tests may be progressing). */
  const run = async (id: string) => (await cp.rollouts.run()).filter((o) => o.id === id);
  const rolloutSpec = (overrides: Record<string, unknown> = {}) => ({
    from: { revision: '1' },
    to: { revision: '2' },
    steps: [10, 50, 100],
    intervalSeconds: 60,
    maxErrorRatePercent: 1,
    maxP99LatencyMs: 300,
    minRequests: 100,
    ...overrides,
  });

  it('advances one step per interval while the new subset is healthy, holds without traffic, and completes', async () => {
    await put({ name: 'payments' });
    await put({ name: 'orders', dependencies: [{ service: 'payments', localPort: 9001, rollout: rolloutSpec() }] });

    // First run: the first step at once.
    expect((await cp.rollouts.run()).map((o) => [o.id, o.decision.action, o.decision.percent])).toEqual([['orders/payments', 'start', 10]]);
    expect(await servedWeights('orders', 'payments')).toEqual([90, 10]);
    // Before the interval is up: nothing.
    advance(30);
    await feed('payments', '2', 500, 0);
    expect(await cp.rollouts.run()).toEqual([]);
    // Up, and healthy: the next step.
    advance(30);
    const second = await cp.rollouts.run();
    expect(second.map((o) => [o.decision.action, o.decision.percent, o.recorded])).toEqual([['advance', 50, true]]);
    expect(second[0]!.decision.measured).toMatchObject({ requests: 500, errors: 0, errorRatePercent: 0 });
    expect(await servedWeights('orders', 'payments')).toEqual([50, 50]);
    // No traffic in the next step: it holds (recorded once per interval), then advances when traffic comes.
    advance(61);
    expect((await cp.rollouts.run()).map((o) => o.decision.action)).toEqual(['hold']);
    expect(await servedWeights('orders', 'payments')).toEqual([50, 50]);
    await feed('payments', '2', 300, 1);
    advance(1);
    expect((await cp.rollouts.run()).map((o) => [o.decision.action, o.decision.percent])).toEqual([['advance', 100]]);
    expect(await servedWeights('orders', 'payments')).toEqual([0, 100]);
    advance(61);
    await feed('payments', '2', 1000, 2);
    expect((await cp.rollouts.run()).map((o) => o.decision.action)).toEqual(['complete']);

    const done = await rollout('orders', 'orders/payments');
    expect(done).toMatchObject({ status: 'completed', percent: 100 });
    expect(done!.history.map((d) => `${d.action} ${d.percent}`)).toEqual(['start 10', 'advance 50', 'hold 50', 'advance 100', 'complete 100']);
    // meshctl status shows it beside the service's Envoys.
    const status = await runMeshctl(['status', 'orders', '--endpoint', cp.url], { now: new Date(now.getTime() + 5_000) });
    expect(status.stdout).toMatch(/ROLLOUT\s+STATUS\s+TO NEW SUBSET\s+LAST DECISION/);
    expect(status.stdout).toMatch(/orders\/payments\s+completed\s+100 %\s+complete, 5s ago: error rate 0.2 %, p99 50 ms on 1000 requests at 100 %: done/);
    // The callee shows the rollout of its traffic too, and a finished rollout does nothing more.
    expect(await rollout('payments', 'orders/payments')).toMatchObject({ status: 'completed' });
    advance(3600);
    expect(await cp.rollouts.run()).toEqual([]);
  });

  it('rolls back to 0 % at once when a step errs beyond the bound, for every caller of a service-level rollout', async () => {
    await put({ name: 'ledger', rollout: rolloutSpec({ steps: [25, 100] }) });
    await put({ name: 'billing', dependencies: [{ service: 'ledger', localPort: 9002 }] });
    await put({ name: 'shipping', inboundPort: 15001, dependencies: [{ service: 'ledger', localPort: 9003 }] });

    expect((await cp.rollouts.run()).map((o) => [o.id, o.decision.action, o.decision.percent])).toEqual([['ledger', 'start', 25]]);
    expect([await servedWeights('billing', 'ledger'), await servedWeights('shipping', 'ledger')]).toEqual([
      [75, 25],
      [75, 25],
    ]);
    advance(60);
    await feed('ledger', '2', 200, 5); // 2.5 % > 1 %
    const [outcome] = await cp.rollouts.run();
    expect(outcome!.decision).toMatchObject({ action: 'roll-back', percent: 0, reason: 'error rate 2.5 % > 1 % at 25 %' });
    expect([await servedWeights('billing', 'ledger'), await servedWeights('shipping', 'ledger')]).toEqual([
      [100, 0],
      [100, 0],
    ]);
    expect(await rollout('ledger', 'ledger')).toMatchObject({ status: 'rolled-back', percent: 0 });
    // Rolled back stays rolled back until the rollout is changed (a new one starts over).
    advance(3600);
    expect(await cp.rollouts.run()).toEqual([]);
    await put({ name: 'ledger', rollout: rolloutSpec({ steps: [5, 100] }) });
    expect((await cp.rollouts.run()).map((o) => [o.id, o.decision.action, o.decision.percent])).toEqual([['ledger', 'start', 5]]);
  });

  it('rolls back on latency beyond the bound, and refuses a bad metric sample with a 400 naming the problem', async () => {
    await put({ name: 'search', inboundPort: 15002, dependencies: [{ service: 'payments', localPort: 9004, rollout: rolloutSpec({ steps: [20, 100] }) }] });
    // payments' rollout by orders is complete; this one is search's own.
    expect((await run('search/payments')).map((o) => o.decision.action)).toEqual(['start']);
    advance(60);
    await feed('payments', '2', 500, 0, 900);
    const [outcome] = await run('search/payments');
    expect(outcome!.decision).toMatchObject({ action: 'roll-back', reason: 'p99 latency 900 ms > 300 ms at 20 %' });
    expect(await servedWeights('search', 'payments')).toEqual([100, 0]);

    const bad = await request(cp.url, 'POST', '/local/metrics', { service: 'payments', labels: { revision: 2 }, requests: 5, errors: 9, at: 'yesterday' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('labels must be an object of string values');
    expect(JSON.stringify(bad.body)).toContain('errors must not exceed requests');
    expect(JSON.stringify(bad.body)).toContain('at must be an ISO 8601 instant');
  });

  it('withdraws a rollout its owner no longer declares, leaving the split where it was', async () => {
    await put({ name: 'audit', inboundPort: 15003 });
    await put({ name: 'reports', inboundPort: 15004, dependencies: [{ service: 'audit', localPort: 9005, rollout: rolloutSpec({ from: { track: 'stable' }, to: { track: 'canary' } }) }] });
    expect((await run('reports/audit')).map((o) => o.decision.action)).toEqual(['start']);
    expect(await servedWeights('reports', 'audit')).toEqual([90, 10]);
    await put({ name: 'reports', inboundPort: 15004, dependencies: [{ service: 'audit', localPort: 9005, split: { subsets: [{ labels: { track: 'stable' }, weight: 90 }, { labels: { track: 'canary' }, weight: 10 }] } }] });
    const [outcome] = await run('reports/audit');
    expect(outcome!.decision).toMatchObject({ action: 'withdraw', reason: 'the rollout is no longer declared by "reports"' });
    expect(await servedWeights('reports', 'audit')).toEqual([90, 10]);
    expect(await rollout('reports', 'reports/audit')).toMatchObject({ status: 'withdrawn' });
  });
});

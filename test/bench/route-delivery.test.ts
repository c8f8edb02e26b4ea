import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchReport } from '../../bench/harness';
import { defaultAssumptions, measuredInputs, monthlyCost, withRoutesInline } from '../../bench/cost-model';
import { churnMix, simulateChurn, summarize } from '../../bench/suites/route-delivery';
import { defaultRenderSettings } from '../../shared/render/settings';
import { ldsRefreshDelayOf } from '../../shared/bootstrap/envoy-bootstrap';

/**
 * Route delivery as a cost lever: the churn simulation's findings follow from where each
 * policy lives (route, listener, cluster), and the cost model prices the same settings the
 * functions and the bootstrap use.
 */
describe('spec churn under both route deliveries', () => {
  const results = simulateChurn({ services: 12, dependenciesPerService: 4, changes: 120, seed: 7 });

  it('is the same sequence for the same seed, and draws every kind of change', () => {
    const again = simulateChurn({ services: 12, dependenciesPerService: 4, changes: 120, seed: 7 });
    expect(again).toEqual(results);
    expect(new Set(results.map((r) => r.kind))).toEqual(new Set(churnMix.map((m) => m.kind)));
  });

  it('inline serves no RDS: every change that updated RDS updates listeners instead', () => {
    for (const r of results) {
      expect(r.effects.inline.rdsUpdated).toBe(false);
      if (r.effects.rds.rdsUpdated || r.effects.rds.ldsUpdated) expect({ kind: r.kind, lds: r.effects.inline.ldsUpdated }).toEqual({ kind: r.kind, lds: true });
    }
    expect(summarize(results, 'inline').lds_update_share).toBeGreaterThan(summarize(results, 'rds').lds_update_share!);
  });

  it('cluster policy changes touch neither listeners nor routes; dependencies coming and going update listeners either way', () => {
    const breakers = summarize(results, 'inline', 'circuit breakers or outlier detection');
    expect(breakers.changes).toBeGreaterThan(0);
    expect([breakers.lds_update_share, breakers.rds_update_share]).toEqual([0, 0]);
    for (const mode of ['rds', 'inline'] as const) expect(summarize(results, mode, 'dependency added or removed').lds_update_share).toBe(1);
    // Over RDS, an HTTP service's inbound timeout is a route change only.
    expect(summarize(results, 'rds', 'inbound timeout').lds_update_share).toBe(0);
  });
});

describe('the cost model and the deployed settings', () => {
  const report = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as BenchReport;
  const m = measuredInputs(report);

  it('prices the refresh delay the functions and the bootstrap use', () => {
    expect(`${defaultAssumptions.refreshDelayS}s`).toBe(defaultRenderSettings.refreshDelay);
    expect(`${withRoutesInline(defaultAssumptions).ldsRefreshS}s`).toBe(ldsRefreshDelayOf({ ...defaultRenderSettings, routeDelivery: 'inline' }));
  });

  it('inline routes remove the RDS polls and add LDS polls at the refresh delay', () => {
    const a = defaultAssumptions;
    const rds = monthlyCost(m, a);
    const inline = monthlyCost(m, withRoutesInline(a));
    const perEnvoy = (rds.pollsPerSecond - inline.pollsPerSecond) / a.envoys;
    const expected = a.routesPerEnvoy / (1.5 * a.refreshDelayS) - (1 / (1.5 * a.refreshDelayS) - 1 / (1.5 * a.ldsRefreshS));
    expect(perEnvoy).toBeCloseTo(expected, 9);
    expect(inline.total).toBeLessThan(rds.total);
  });
});

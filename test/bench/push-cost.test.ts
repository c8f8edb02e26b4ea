import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchReport } from '../../bench/harness';
import {
  costDocument,
  defaultAssumptions,
  defaultPushAssumptions,
  idleFeed,
  measuredInputs,
  monthlyCost,
  pushCheaperRange,
  pushMeasuredInputs,
  pushMonthlyCost,
} from '../../bench/cost-model';

/**
 * The push tier's side of the cost model, on the committed benchmark figures: the arithmetic's
 * shape (what grows with what), not its dollar amounts, which follow the prices.
 */
const report = JSON.parse(readFileSync(join(__dirname, '..', '..', 'bench', 'results.json'), 'utf8')) as BenchReport;
const m = measuredInputs(report);
const pm = pushMeasuredInputs(report);
const at = (envoys: number, overrides = {}) => pushMonthlyCost(m, pm, { ...defaultAssumptions, envoys }, { ...defaultPushAssumptions, ...overrides });

describe('the push tier cost model', () => {
  it('reads its measured inputs from the push and change-feed suites', () => {
    expect(pm.streamsMeasured).toBe(5000);
    expect(pm.cpuUsPerPush).toBeGreaterThan(0);
    expect(pm.heapKibPerStream).toBeGreaterThan(0);
    expect(pm.feedServicesMeasured).toEqual([10, 1000, 10_000]);
    // One consistent Query per tick, DynamoDB's minimum of one read unit.
    expect(pm.logReadUnitsPerTick).toBe(1);
    expect(pm.logReadUnitsPerChange).toBeGreaterThan(0);
    expect(pm.refreshReadUnitsPerChange).toBeGreaterThan(0);
  });

  it('finds the idle log Query flat in services and the sweep proportional to them, as measured', () => {
    const feeds = pm.feedServicesMeasured.map((n) => ({ n, ...idleFeed(report, n) }));
    for (const f of feeds) expect(f.logReadUnitsPerTick).toBe(pm.logReadUnitsPerTick);
    // The sweep reads one snapshot per service: the same units per service at every size (to the rounding of the row).
    for (const f of feeds) expect((f.sweepReadUnitsPerS * 60) / f.n).toBeCloseTo(pm.sweepReadUnitsPerItem, 2);
    // A snapshot item read eventually consistently: what the model charges per SNAPSHOT in the sweep.
    expect(pm.sweepReadUnitsPerItem).toBeCloseTo(0.5, 2);
  });

  it('keeps two tasks for small fleets and one per 2,000 streams beyond', () => {
    expect([100, 1000, 4000, 4001, 100_000].map((n) => at(n).tasks)).toEqual([2, 2, 2, 3, 50]);
  });

  it('prices the idle change log per task, whatever the number of services', () => {
    const quiet = { replacementsPerEnvoyPerDay: 0 };
    const few = pushMonthlyCost(m, pm, { ...defaultAssumptions, ...quiet, envoys: 1000, envoysPerService: 100 });
    const many = pushMonthlyCost(m, pm, { ...defaultAssumptions, ...quiet, envoys: 1000, envoysPerService: 1 });
    expect(few.tasks).toBe(many.tasks);
    expect(many.monthly.changeLog).toBeCloseTo(few.monthly.changeLog, 9);
    expect(many.monthly.changeRefresh).toBe(0);
    // A third task (4,001 Envoys) adds a third of the log's Queries.
    const two = pushMonthlyCost(m, pm, { ...defaultAssumptions, ...quiet, envoys: 4000 });
    const three = pushMonthlyCost(m, pm, { ...defaultAssumptions, ...quiet, envoys: 4001 });
    expect(three.monthly.changeLog / two.monthly.changeLog).toBeCloseTo(1.5, 9);
  });

  it('prices changes per task: each change read by every task, in proportion to the churn', () => {
    const once = at(10_000);
    const twice = pushMonthlyCost(m, pm, { ...defaultAssumptions, envoys: 10_000, replacementsPerEnvoyPerDay: 2 });
    expect(twice.changesPerMonth).toBe(2 * once.changesPerMonth);
    expect(twice.monthly.changeRefresh).toBeCloseTo(2 * once.monthly.changeRefresh, 9);
    expect(once.monthly.changeRefresh).toBeCloseTo((once.tasks * once.changesPerMonth * pm.refreshReadUnitsPerChange * 0.125) / 1e6, 9);
  });

  it('prices the sweep by the items the tasks hold: proportional to services with one task, a tenth for a ten times longer sweep', () => {
    // 2,000 Envoys on two tasks: services 20 and 200 (at 100 and 10 Envoys a service), each task holding nearly all.
    const few = pushMonthlyCost(m, pm, { ...defaultAssumptions, envoys: 2000, envoysPerService: 100 });
    const many = pushMonthlyCost(m, pm, { ...defaultAssumptions, envoys: 2000, envoysPerService: 10 });
    expect(few.sweepItemsPerTask).toBeCloseTo(20 + 20, 6);
    expect(many.sweepItemsPerTask).toBeCloseTo(many.servicesPerTask + 200, 6);
    const ratio = many.monthly.sweep / few.monthly.sweep;
    expect(ratio).toBeGreaterThan(9.9);
    expect(ratio).toBeLessThanOrEqual(10);
    const slow = at(100_000, { sweepS: 600 });
    expect(slow.monthly.sweep * 10).toBeCloseTo(at(100_000).monthly.sweep, 6);
    expect(at(100_000).servicesPerTask).toBeLessThan(100_000 / defaultAssumptions.envoysPerService);
  });

  it('moves no poll through the NAT gateway but SDS: its data transfer is a small fraction of REST', () => {
    const rest = monthlyCost(m, defaultAssumptions);
    const push = at(1000);
    expect(push.monthly.dataTransfer + push.monthly.restSds).toBeLessThan(rest.monthly.dataTransfer / 100);
  });

  it('finds where push costs less: against NAT polling from a small fleet on, against IPv6 polling from its floor on', () => {
    const nat = pushCheaperRange(m, pm, defaultAssumptions);
    const ipv6 = pushCheaperRange(m, pm, { ...defaultAssumptions, pollRoute: 'ipv6-egress' });
    expect(nat?.from).toBeLessThan(100);
    expect(ipv6!.from).toBeGreaterThan(nat!.from);
    // Both over IPv6: the push tier's SDS polls take the same route.
    const v6 = (n: number) => ({ ...defaultAssumptions, envoys: n, pollRoute: 'ipv6-egress' as const });
    const cheaper = (n: number) => pushMonthlyCost(m, pm, v6(n)).total < monthlyCost(m, v6(n)).total;
    // Just below the break-even REST is cheaper (the tier's floor of two tasks and an NLB); at it and at every size of the table, push.
    expect(cheaper(Math.floor(ipv6!.from / 1.01) - 1)).toBe(false);
    for (const n of [ipv6!.from, 100, 1000, 10_000, 100_000]) expect(cheaper(n)).toBe(true);
    expect(ipv6!.to).toBeUndefined();
  });

  it('writes the comparison at 100, 1,000, 10,000 and 100,000 Envoys into docs/cost.md as generated', () => {
    const doc = costDocument(report);
    for (const n of ['100', '1,000', '10,000', '100,000']) expect(doc).toMatch(new RegExp(`^\\| ${n} \\| \\$`, 'm'));
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'cost.md'), 'utf8')).toBe(doc);
  });
});

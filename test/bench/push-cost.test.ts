import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BenchReport } from '../../bench/harness';
import {
  costDocument,
  defaultAssumptions,
  defaultPushAssumptions,
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
  it('reads its measured inputs from the push suite', () => {
    expect(pm.requestsPerServiceCheck).toBe(1);
    expect(pm.pushMsPerStream).toBeGreaterThan(0);
    expect(pm.streamsMeasured).toBe(1000);
  });

  it('keeps two tasks for small fleets and one per 2,000 streams beyond', () => {
    expect([100, 1000, 4000, 4001, 100_000].map((n) => at(n).tasks)).toEqual([2, 2, 2, 3, 50]);
  });

  it('prices change checks by tasks × services they hold × checks, so a ten times longer interval costs a tenth', () => {
    const fast = at(10_000);
    const slow = at(10_000, { changeCheckS: 5 });
    expect(slow.monthly.changeChecks * 10).toBeCloseTo(fast.monthly.changeChecks, 6);
    expect(fast.servicesPerTask).toBeLessThan(10_000 / defaultAssumptions.envoysPerService);
  });

  it('moves no poll through the NAT gateway but SDS: its data transfer is a small fraction of REST', () => {
    const rest = monthlyCost(m, defaultAssumptions);
    const push = at(1000);
    expect(push.monthly.dataTransfer + push.monthly.restSds).toBeLessThan(rest.monthly.dataTransfer / 100);
  });

  it('finds where push costs less: against NAT polling from a small fleet on, against IPv6 polling in a window', () => {
    const nat = pushCheaperRange(m, pm, defaultAssumptions);
    const ipv6 = pushCheaperRange(m, pm, { ...defaultAssumptions, pollRoute: 'ipv6-egress' });
    expect(nat?.from).toBeLessThan(100);
    expect(ipv6!.from).toBeGreaterThan(nat!.from);
    expect(ipv6!.to).toBeGreaterThan(ipv6!.from);
    const inside = Math.round((ipv6!.from + ipv6!.to!) / 2);
    expect(at(inside).total).toBeLessThan(monthlyCost(m, { ...defaultAssumptions, envoys: inside, pollRoute: 'ipv6-egress' }).total);
  });

  it('writes the comparison at 100, 1,000, 10,000 and 100,000 Envoys into docs/cost.md as generated', () => {
    const doc = costDocument(report);
    for (const n of ['100', '1,000', '10,000', '100,000']) expect(doc).toMatch(new RegExp(`^\\| ${n} \\| \\$`, 'm'));
    expect(readFileSync(join(__dirname, '..', '..', 'docs', 'cost.md'), 'utf8')).toBe(doc);
  });
});

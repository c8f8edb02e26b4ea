import { runBenchmarks } from '../../bench/run';
import { BenchReport } from '../../bench/harness';
import { costDocument, measuredInputs, monthlyCost, defaultAssumptions } from '../../bench/cost-model';
import { benchmarksDocument, readmeBlock, replaceReadmeBlock } from '../../bench/report';

/**
 * A smoke run of the benchmark harness: the fast suites at tiny sizes, nothing written. It
 * checks the report's shape and that the figures are finite and consistent, never timings.
 */
describe('the benchmark harness at smoke scale', () => {
  let report: BenchReport;
  const row = (suite: string, name: string) => {
    const found = report.suites.find((s) => s.name === suite)?.rows.find((r) => r.name.startsWith(name));
    if (!found) throw new Error(`no row ${suite} / ${name}`);
    return found;
  };

  beforeAll(async () => {
    report = await runBenchmarks('smoke', ['xds', 'lifecycle', 'render', 'convergence', 'push', 'change-feed'], false);
  }, 240_000);

  it('reports the machine, the scale and every suite it ran, each with rows', () => {
    expect(report.scale).toBe('smoke');
    expect(report.machine.node).toBe(process.version);
    expect(report.machine.cores).toBeGreaterThan(0);
    expect(report.suites.map((s) => s.name).sort()).toEqual(['change-feed', 'convergence', 'lifecycle', 'push', 'render', 'xds']);
    for (const s of report.suites) expect(s.rows.length).toBeGreaterThan(0);
  });

  it('gives every figure as a finite number', () => {
    for (const s of report.suites) {
      for (const r of s.rows) {
        for (const [key, value] of Object.entries(r.metrics)) {
          expect({ row: `${s.name} / ${r.name} / ${key}`, finite: Number.isFinite(value) }).toEqual({ row: `${s.name} / ${r.name} / ${key}`, finite: true });
        }
      }
    }
  });

  it('reads less per poll with a warm cache than with a cold one; cold, a CDS poll is one read and an EDS poll two', () => {
    const cold = row('xds', 'DynamoDB operations per poll, cold').metrics.reads_per_poll!;
    const warm = row('xds', 'DynamoDB operations per poll, warm').metrics.reads_per_poll!;
    // The fleet polls CDS and EDS in turn. EDS reads the snapshot alone first (it says who may
    // have the assignments), then the assignment (one Query of its head and shards):
    // authorization before any other read.
    expect(cold).toBe(1.5);
    expect(warm).toBeLessThan(cold);
  });

  it('pushes a change to every stream and reads the table once per idle change check, whatever the number of streams', () => {
    expect(row('push', 'push latency').metrics.p50_ms).toBeGreaterThan(0);
    expect(row('push', 'DynamoDB reads per change check').metrics.reads_per_check).toBe(1);
  });

  it('converges every poller after a burst of events', () => {
    expect(row('convergence', 'event').metrics.not_converged).toBe(0);
  });

  it('counts DynamoDB operations for a lifecycle event, none written for an undeclared service', () => {
    expect(row('lifecycle', 'ecs task RUNNING').metrics.writes_per_event).toBeGreaterThan(0);
    expect(row('lifecycle', 'ecs task of undeclared service').metrics.writes_per_event).toBe(0);
  });

  it('builds the cost model, the tables and the README block from the report (cold start figures added)', () => {
    const withColdStart: BenchReport = {
      ...report,
      suites: [
        ...report.suites,
        { name: 'cold-start', seconds: 0, rows: [{ name: 'bundle and init of functions/xds', params: { function: 'xds' }, metrics: { bundle_kb: 900, bundle_gzip_kb: 220, init_p50_ms: 150, init_max_ms: 200 } }] },
      ],
    };
    const cost = monthlyCost(measuredInputs(withColdStart), defaultAssumptions);
    expect(Number.isFinite(cost.total)).toBe(true);
    expect(cost.total).toBeGreaterThan(0);
    // Longer refresh delays poll less and cost less.
    expect(monthlyCost(measuredInputs(withColdStart), { ...defaultAssumptions, refreshDelayS: 60 }).total).toBeLessThan(cost.total);
    expect(costDocument(withColdStart)).toContain('# Cost per 1,000 Envoys');
    expect(benchmarksDocument(withColdStart)).toContain('## xds');
    const readme = 'intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\noutro\n';
    const replaced = replaceReadmeBlock(readme, readmeBlock(withColdStart));
    expect(replaced.startsWith('intro\n<!-- bench:start -->\nLatest full run')).toBe(true);
    expect(replaced.endsWith('<!-- bench:end -->\noutro\n')).toBe(true);
    expect(replaced).not.toContain('\nold\n');
  });
});

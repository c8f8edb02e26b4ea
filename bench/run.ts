import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { BenchReport, BenchScale, BenchSuite, machineInfo } from './harness';
import { costDocument } from './cost-model';
import { benchmarksDocument, readmeBlock, replaceReadmeBlock } from './report';

/**
 * `npm run bench [-- --smoke] [-- --only name]`: runs every suite in bench/suites (or those whose
 * name contains `name`), prints a table and writes bench/results.json (bench/results.smoke.json
 * for --smoke); `--only` replaces only its suites' rows there. A full run then writes what is
 * generated from the file: docs/benchmarks.md (every figure), docs/cost.md (the cost model) and
 * the README's benchmark block.
 */
export async function runBenchmarks(scale: BenchScale, only?: string | readonly string[], write = true): Promise<BenchReport> {
  process.env.POWERTOOLS_LOG_LEVEL ??= 'SILENT';
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const wanted = only === undefined ? undefined : typeof only === 'string' ? [only] : only;
  const dir = join(__dirname, 'suites');
  // With names, only their files are loaded: a suite's imports (X-Ray's async hooks) must not tax another's figures.
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.ts') && (!wanted || wanted.some((w) => f.slice(0, -3).includes(w))))
    .sort();
  const report: BenchReport = { generatedAt: new Date().toISOString(), machine: machineInfo(), scale, suites: [] };
  for (const file of files) {
    const mod = (await import(join(dir, file))) as { suite?: BenchSuite };
    const suite = mod.suite;
    if (!suite || (wanted && !wanted.some((w) => suite.name.includes(w)))) continue;
    const start = Date.now();
    const rows = await suite.run({ scale, log: (m) => console.error(`[${suite.name}] ${m}`) });
    report.suites.push({ name: suite.name, seconds: (Date.now() - start) / 1000, rows });
  }
  if (write) {
    mkdirSync(__dirname, { recursive: true });
    const out = join(__dirname, scale === 'full' ? 'results.json' : 'results.smoke.json');
    // Some suites of a full run (`--only`): their rows replace theirs in the file, the others' stay.
    const written = scale === 'full' && wanted ? mergeSuites(JSON.parse(readFileSync(out, 'utf8')) as BenchReport, report) : report;
    writeFileSync(out, JSON.stringify(written, null, 2) + '\n');
    if (scale === 'full') writeGenerated(written);
  }
  return report;
}

/**
 * mergeSuites puts the suites of a partial run into an earlier report, in place of theirs (or
 * after the others, sorted by name as a full run orders them); each merged suite says when and
 * where it was measured, as the report's own date is that of the rest.
 */
export function mergeSuites(earlier: BenchReport, partial: BenchReport): BenchReport {
  const fresh = partial.suites.map((s) => ({ ...s, measuredAt: partial.generatedAt, machine: partial.machine }));
  const names = new Set(fresh.map((s) => s.name));
  const suites = [...earlier.suites.filter((s) => !names.has(s.name)), ...fresh].sort((a, b) => a.name.localeCompare(b.name));
  return { ...earlier, suites };
}

/** writeGenerated writes the documents made from a full run: the tables, the cost model, the README block. */
export function writeGenerated(report: BenchReport): void {
  const root = join(__dirname, '..');
  writeFileSync(join(root, 'docs', 'benchmarks.md'), benchmarksDocument(report));
  writeFileSync(join(root, 'docs', 'cost.md'), costDocument(report));
  const readme = join(root, 'README.md');
  writeFileSync(readme, replaceReadmeBlock(readFileSync(readme, 'utf8'), readmeBlock(report)));
}

export function formatTable(report: BenchReport): string {
  const lines = [`machine: ${report.machine.cpu} x${report.machine.cores}, node ${report.machine.node}`];
  for (const s of report.suites) {
    lines.push('', `## ${s.name} (${s.seconds.toFixed(1)} s)`);
    for (const row of s.rows) {
      const params = Object.entries(row.params).map(([k, v]) => `${k}=${v}`).join(' ');
      const metrics = Object.entries(row.metrics).map(([k, v]) => `${k}=${v}`).join('  ');
      lines.push(`- ${row.name}${params ? ` [${params}]` : ''}: ${metrics}`);
    }
  }
  return lines.join('\n');
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const scale: BenchScale = args.includes('--smoke') ? 'smoke' : 'full';
  const onlyIndex = args.indexOf('--only');
  const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;
  // `--regenerate`: rewrite the documents from the existing bench/results.json, without running.
  if (args.includes('--regenerate')) {
    writeGenerated(JSON.parse(readFileSync(join(__dirname, 'results.json'), 'utf8')) as BenchReport);
    process.exit(0);
  }
  runBenchmarks(scale, only)
    .then((report) => {
      console.log(formatTable(report));
      process.exit(0);
    })
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}

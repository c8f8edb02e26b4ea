import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BenchContext, BenchRow, BenchSuite, percentile, round } from '../harness';
import { BundleFacts, bundle, extractBaseline, functionEntries } from '../bundles';

/**
 * baselineCommit is "today's build" of issue #20: the code whose run published the xds bundle
 * at 880 KB (docs/benchmarks.md at 58ebd7f). Its functions are bundled and started next to
 * today's in the same run, as that commit's bench bundled them (the same esbuild options, no
 * aliases: it had none), and each function's row carries the ratio to it.
 */
export const baselineCommit = '58ebd7fb6e2edcd2094fd3e42fd0bf0531cf5c09';

/** How many packages a breakdown row names. */
const topPackages = 8;

/**
 * Cold start: each Lambda bundled as the CDK stack bundles it (esbuild, CommonJS, minified,
 * node22, ES module builds first, the AWS SDK included, the same aliases: infra/mesh-function.ts),
 * its size, what is in it (esbuild's metafile: the largest packages, any package bundled
 * twice), and the time a fresh Node process takes to load it and build its handler (the init
 * phase Lambda bills on a cold start). The baseline build is measured in the same run,
 * interleaved run by run with today's, so the ratios hold on any machine.
 */
export const suite: BenchSuite = {
  name: 'cold-start',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const root = join(__dirname, '..', '..');
    const out = mkdtempSync(join(tmpdir(), 'cold-start-'));
    const runs = ctx.scale === 'smoke' ? 2 : 15;
    const rows: BenchRow[] = [];
    try {
      const baseline = extractBaseline(root, baselineCommit, join(out, 'baseline'));
      if (!baseline.ok) ctx.log(`baseline unavailable: ${baseline.reason}`);
      for (const name of functionEntries(root)) {
        const today = build(join(root, 'functions', name, 'index.ts'), join(out, `${name}.js`));
        const before = baseline.ok
          ? tryBuild(join(baseline.root, 'functions', name, 'index.ts'), join(out, `${name}.baseline.js`), root)
          : ({ error: baseline.reason } as const);
        const samples: number[] = [];
        const baselineSamples: number[] = [];
        for (let i = 0; i < runs; i++) {
          samples.push(initMs(today.probe));
          if ('probe' in before) baselineSamples.push(initMs(before.probe));
        }
        const init = summary(samples);
        rows.push({
          name: `bundle and init of functions/${name}`,
          params: { function: name },
          metrics: {
            bundle_kb: kb(today.facts.bytes),
            bundle_gzip_kb: kb(today.facts.gzipBytes),
            init_p50_ms: init.p50,
            init_max_ms: init.max,
            ...('probe' in before
              ? { bundle_ratio: round(today.facts.bytes / before.facts.bytes, 2), init_ratio: round(init.p50 / summary(baselineSamples).p50, 2) }
              : {}),
          },
        });
        rows.push({
          name: `what is in functions/${name}`,
          params: { function: name, largest: largest(today.facts) },
          metrics: { packages: today.facts.packages.length, duplicate_packages: today.facts.duplicates.length },
        });
        if ('probe' in before) {
          const was = summary(baselineSamples);
          rows.push({
            name: `baseline (${baselineCommit.slice(0, 7)}) bundle and init of functions/${name}`,
            params: { function: name, largest: largest(before.facts) },
            metrics: { bundle_kb: kb(before.facts.bytes), bundle_gzip_kb: kb(before.facts.gzipBytes), init_p50_ms: was.p50, init_max_ms: was.max },
          });
        } else {
          rows.push({ name: `baseline (${baselineCommit.slice(0, 7)}) of functions/${name}: unavailable (${before.error})`, params: { function: name }, metrics: {} });
        }
        ctx.log(`${name}: ${kb(today.facts.bytes)} KB${'probe' in before ? ` (baseline ${kb(before.facts.bytes)} KB)` : ''}`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    return rows;
  },
};

const kb = (bytes: number) => round(bytes / 1024, 1);

function largest(facts: BundleFacts): string {
  const top = facts.packages.slice(0, topPackages).map((p) => `${p.name} ${kb(p.bytes)}`);
  return `${top.join(' · ')} (KB)${facts.duplicates.length ? `; twice: ${facts.duplicates.join(', ')}` : ''}`;
}

function summary(samples: number[]): { p50: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 1), max: round(sorted[sorted.length - 1]!, 1) };
}

/** build bundles today's entry and writes the probe that times loading it. */
function build(entry: string, outfile: string): { facts: BundleFacts; probe: string } {
  return { facts: bundle(join(entry, '..', '..', '..'), entry, outfile), probe: writeProbe(outfile) };
}

/** tryBuild bundles a baseline entry as its commit's bench did (no aliases), or says why it cannot. */
function tryBuild(entry: string, outfile: string, root: string): { facts: BundleFacts; probe: string } | { error: string } {
  if (!existsSync(entry)) return { error: 'the function did not exist then' };
  try {
    const facts = bundle(join(entry, '..', '..', '..'), entry, outfile, { alias: {}, nodePaths: [join(root, 'node_modules')] });
    return { facts, probe: writeProbe(outfile) };
  } catch (err) {
    const first = (err as { errors?: { text: string }[] }).errors?.[0]?.text ?? (err as Error).message.split('\n')[0];
    return { error: `it does not build today: ${first}` };
  }
}

function writeProbe(outfile: string): string {
  const probe = outfile.replace(/\.js$/, '.probe.js');
  writeFileSync(
    probe,
    `const t = process.hrtime.bigint(); const m = require(${JSON.stringify(outfile)});
     if (typeof m.handler !== 'function') throw new Error('no handler');
     process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`,
  );
  return probe;
}

const probeEnv = {
  ...process.env,
  TABLE_NAME: 'bench',
  AWS_REGION: 'us-east-1',
  DRAIN_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111122223333/drain',
  // The renewal function refuses to start without its keys (the stack always gives them).
  CA_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/ca',
  DATA_KEY_ID: 'arn:aws:kms:us-east-1:111122223333:key/data',
  POWERTOOLS_METRICS_DISABLED: 'true',
  POWERTOOLS_LOG_LEVEL: 'SILENT',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
};

function initMs(probe: string): number {
  return Number(execFileSync(process.execPath, [probe], { env: probeEnv }).toString());
}

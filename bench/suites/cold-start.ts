import { buildSync } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { BenchContext, BenchRow, BenchSuite, percentile, round } from '../harness';
import { lambdaAliases } from '../../infra/mesh-function';

/**
 * Cold start: each Lambda bundled as the CDK stack bundles it (esbuild, CommonJS, minified,
 * node22, the AWS SDK included, the same aliases: infra/mesh-function.ts), its size, and the time a fresh Node
 * process takes to load it and build its handler (the init phase Lambda bills on a cold start).
 */
export const suite: BenchSuite = {
  name: 'cold-start',
  async run(ctx: BenchContext): Promise<BenchRow[]> {
    const root = join(__dirname, '..', '..');
    const entries = readdirSync(join(root, 'functions'))
      .filter((d) => existsSync(join(root, 'functions', d, 'index.ts')))
      .sort();
    const out = mkdtempSync(join(tmpdir(), 'cold-start-'));
    const runs = ctx.scale === 'smoke' ? 2 : 15;
    const rows: BenchRow[] = [];
    try {
      for (const name of entries) {
        const outfile = join(out, `${name}.js`);
        buildSync({
          entryPoints: [join(root, 'functions', name, 'index.ts')],
          bundle: true,
          platform: 'node',
          target: 'node22',
          format: 'cjs',
          minify: true,
          sourcemap: 'external',
          mainFields: ['module', 'main'],
          alias: { ...lambdaAliases },
          outfile,
          logLevel: 'silent',
        });
        const code = readFileSync(outfile);
        const probe = join(out, `${name}.probe.js`);
        writeFileSync(
          probe,
          `const t = process.hrtime.bigint(); const m = require(${JSON.stringify(outfile)});
           if (typeof m.handler !== 'function') throw new Error('no handler');
           process.stdout.write(String(Number(process.hrtime.bigint() - t) / 1e6));`,
        );
        const env = {
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
        const samples: number[] = [];
        for (let i = 0; i < runs; i++) samples.push(Number(execFileSync(process.execPath, [probe], { env }).toString()));
        samples.sort((a, b) => a - b);
        rows.push({
          name: `bundle and init of functions/${name}`,
          params: { function: name },
          metrics: {
            bundle_kb: round(statSync(outfile).size / 1024, 1),
            bundle_gzip_kb: round(gzipSync(code).length / 1024, 1),
            init_p50_ms: round(percentile(samples, 50), 1),
            init_max_ms: round(samples[samples.length - 1]!, 1),
          },
        });
        ctx.log(`${name}: ${rows[rows.length - 1]!.metrics.bundle_kb} KB`);
      }
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
    return rows;
  },
};

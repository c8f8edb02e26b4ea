import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Metafile } from 'esbuild';
import { breakdown, extractBaseline, packageOf } from '../../bench/bundles';

const input = (bytesInOutput: number) => ({ bytesInOutput });

describe('the cold-start bench bundle facts', () => {
  it.each([
    ['node_modules/@smithy/core/dist-es/submodules/retry/index.js', '@smithy/core'],
    ['node_modules/zod/v4/core/schemas.js', 'zod'],
    ['../../work/x/node_modules/aws-xray-sdk-core/node_modules/semver/index.js', 'semver'],
    ['shared/store/dynamo/rows.ts', 'shared/store'],
    ['shared/shape.ts', 'shared/shape.ts'],
  ])('names the package of %s: %s', (path, name) => {
    expect(packageOf(path).name).toBe(name);
  });

  it('sums minified bytes per package, largest first, and finds a package bundled from two places', () => {
    const metafile = {
      inputs: {},
      outputs: {
        'out.js': {
          bytes: 0,
          imports: [],
          exports: [],
          entryPoint: 'functions/xds/index.ts',
          inputs: {
            'node_modules/semver/index.js': input(300),
            'node_modules/aws-xray-sdk-core/node_modules/semver/index.js': input(200),
            'node_modules/@smithy/core/a.js': input(1000),
            'node_modules/@smithy/core/b.js': input(24),
            'shared/xds/discovery.ts': input(700),
            'node_modules/tree-shaken/index.js': input(0),
          },
        },
      },
    } as unknown as Metafile;
    expect(breakdown(metafile)).toEqual({
      packages: [
        { name: '@smithy/core', bytes: 1024 },
        { name: 'shared/xds', bytes: 700 },
        { name: 'semver', bytes: 500 },
      ],
      duplicates: ['semver'],
    });
  });

  it('says the baseline is unavailable, without throwing, in a clone without its commit', () => {
    const dir = mkdtempSync(join(tmpdir(), 'baseline-'));
    try {
      expect(extractBaseline(join(__dirname, '..', '..'), '0'.repeat(40), join(dir, 'b'))).toEqual({
        ok: false,
        reason: 'commit 0000000 is not in this clone',
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

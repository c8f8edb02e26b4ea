import { buildSync, BuildOptions, Metafile } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { meshEsbuildOptions } from '../infra/mesh-function';

/**
 * Bundles as the stack deploys them (infra/mesh-function.ts, meshEsbuildOptions), with what
 * esbuild's metafile says is in them: which packages, how many bytes each adds to the minified
 * output, and whether any package is there twice (two copies resolved from different paths).
 */

export interface BundleFacts {
  readonly bytes: number;
  readonly gzipBytes: number;
  /** Minified bytes per package (`@smithy/core`, `zod`) or our own folder (`shared/store`), largest first. */
  readonly packages: readonly { readonly name: string; readonly bytes: number }[];
  /** Packages bundled from more than one directory (a second copy), by name. */
  readonly duplicates: readonly string[];
}

/** functionEntries lists the functions (a folder under functions/ with an index.ts) of a source tree. */
export function functionEntries(root: string): string[] {
  return readdirSync(join(root, 'functions'))
    .filter((d) => existsSync(join(root, 'functions', d, 'index.ts')))
    .sort();
}

/** bundle builds one entry of the source tree at `root` to `outfile` and reads its metafile (paths in it relative to `root`). */
export function bundle(root: string, entry: string, outfile: string, options: Partial<BuildOptions> = {}): BundleFacts {
  const result = buildSync({
    ...meshEsbuildOptions,
    mainFields: [...meshEsbuildOptions.mainFields],
    external: [...meshEsbuildOptions.external],
    alias: { ...meshEsbuildOptions.alias },
    ...options,
    entryPoints: [entry],
    absWorkingDir: root,
    outfile,
    sourcemap: 'external',
    metafile: true,
    logLevel: 'silent',
  });
  const code = readFileSync(outfile);
  return { bytes: code.length, gzipBytes: gzipSync(code).length, ...breakdown(result.metafile!) };
}

/** packageOf names what an input path belongs to: its package (after the last node_modules in the path), else its first two path segments (`shared/store`, `shared/shape.ts`). */
export function packageOf(input: string): { name: string; dir: string } {
  const at = input.lastIndexOf('node_modules/');
  if (at < 0) {
    const name = input.split('/').slice(0, 2).join('/');
    return { name, dir: name };
  }
  const rest = input.slice(at + 'node_modules/'.length).split('/');
  const name = rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  return { name, dir: input.slice(0, at + 'node_modules/'.length + name.length) };
}

/** breakdown sums a bundle's bytes per package and finds packages bundled from two places. */
export function breakdown(metafile: Metafile): Pick<BundleFacts, 'packages' | 'duplicates'> {
  const output = Object.values(metafile.outputs).find((o) => o.entryPoint !== undefined) ?? Object.values(metafile.outputs)[0]!;
  const bytes = new Map<string, number>();
  const dirs = new Map<string, Set<string>>();
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    if (bytesInOutput === 0) continue;
    const { name, dir } = packageOf(input);
    bytes.set(name, (bytes.get(name) ?? 0) + bytesInOutput);
    dirs.set(name, (dirs.get(name) ?? new Set()).add(dir));
  }
  return {
    packages: [...bytes].map(([name, b]) => ({ name, bytes: b })).sort((a, b) => b.bytes - a.bytes || a.name.localeCompare(b.name)),
    duplicates: [...dirs].filter(([, d]) => d.size > 1).map(([name]) => name).sort(),
  };
}

export type Baseline = { readonly ok: true; readonly root: string } | { readonly ok: false; readonly reason: string };

/**
 * extractBaseline writes the functions and the shared core of an earlier commit into `dir`
 * (`git archive`), to be bundled next to today's in the same run: sizes and init times are then
 * measured on the same machine at the same time, so their ratio means something on any machine.
 * Packages resolve from today's node_modules. A clone without that commit (shallow, or another
 * history) gets the reason, not an exception.
 */
export function extractBaseline(repo: string, commit: string, dir: string): Baseline {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { cwd: repo, stdio: 'ignore' });
  } catch {
    return { ok: false, reason: `commit ${commit.slice(0, 7)} is not in this clone` };
  }
  try {
    mkdirSync(dir, { recursive: true });
    const archive = execFileSync('git', ['archive', '--format=tar', commit, 'functions', 'shared'], { cwd: repo, maxBuffer: 256 * 1024 * 1024 });
    execFileSync('tar', ['-x', '-C', dir], { input: archive });
    return { ok: true, root: dir };
  } catch (err) {
    return { ok: false, reason: `commit ${commit.slice(0, 7)} could not be extracted: ${(err as Error).message.split('\n')[0]}` };
  }
}

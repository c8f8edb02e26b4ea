import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SpecSource } from '../shared/state/mesh-analysis';
import { CliError } from './io';

/** SpecFileError is a file that is not a JSON spec document: reported as a finding at the file, path "". */
export interface SpecFileError {
  readonly file: string;
  readonly message: string;
}

/**
 * readSpecs reads a spec file, or every `*.json` file under a folder (sorted, recursively):
 * each holds one spec object or an array of them. Files are named relative to the working
 * directory, as a CI log should show them.
 */
export function readSpecs(target: string, cwd = process.cwd()): { sources: SpecSource[]; errors: SpecFileError[] } {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new CliError(`${target}: no such file or folder`);
  }
  const files = stat.isDirectory() ? jsonFilesUnder(target) : [target];
  if (files.length === 0) throw new CliError(`${target}: no *.json spec files in this folder`);
  const sources: SpecSource[] = [];
  const errors: SpecFileError[] = [];
  for (const path of files) {
    const file = relative(cwd, path) || path;
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      errors.push({ file, message: `not valid JSON: ${(err as Error).message}` });
      continue;
    }
    if (Array.isArray(doc)) doc.forEach((input, index) => sources.push({ file, index, input }));
    else if (doc && typeof doc === 'object') sources.push({ file, input: doc });
    else errors.push({ file, message: 'must hold a service spec object or an array of them' });
  }
  return { sources, errors };
}

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name.startsWith('.') || entry.name === 'node_modules' ? [] : jsonFilesUnder(path);
      return entry.name.endsWith('.json') ? [path] : [];
    });
}

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { analyzeMesh } from '../../shared/state/mesh-analysis';
import { convertAppMesh } from '../appmesh/convert';
import { readAppMesh } from '../appmesh/read';
import { Command, printJson } from '../command';
import { CliError } from '../io';
import { table } from '../table';
import { printFindings } from './analyze';

export const importCommand: Command = {
  name: 'import',
  summary: 'turn App Mesh definitions (describe-* JSON or CloudFormation) into specs',
  usage: 'meshctl import appmesh <file> [--out-dir DIR]',
  description: `Reads App Mesh definitions, either the JSON of \`aws appmesh describe-*\` calls (one output, an
array of them, or {"virtualNodes": [...], "virtualRouters": [...], ...} with each item's spec)
or a CloudFormation template with AWS::AppMesh::* resources, and writes the equivalent service
specs: virtual services become services, virtual nodes behind a router become their versions
(endpoint subsets), backends become dependencies, listener health checks, outlier detection
and connection pools become the callers' policy, weighted routes become splits and exact
header matches header routes. Reports everything that has no equivalent, with where it was.
The specs are then analyzed as meshctl analyze does; exits 1 if they have errors.`,
  optionsHelp: '  --out-dir DIR       write one <service>.json per service there (default: print them as a JSON array)',
  options: { 'out-dir': { type: 'string' } },
  minArgs: 2,
  maxArgs: 2,
  async run(ctx) {
    const [source, file] = ctx.args as [string, string];
    if (source !== 'appmesh') throw new CliError(`meshctl import knows one source, appmesh; got "${source}"`);
    let doc: unknown;
    try {
      doc = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new CliError(`${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : `not valid JSON: ${(err as Error).message}`}`);
    }
    const read = readAppMesh(doc);
    if (read.resources.length === 0) {
      throw new CliError(`${file}: no App Mesh resource with a spec found${read.skipped.length ? ` (${read.skipped.map((s) => `${s.at}: ${s.reason}`).join('; ')})` : ''}`, 1);
    }
    const conversion = convertAppMesh(read.resources);
    const unsupported = [...read.skipped.map((s) => ({ at: s.at, what: s.reason })), ...conversion.unsupported];
    const outDir = ctx.option('out-dir');
    const sources = conversion.specs.map((spec) => ({ file: outDir ? join(outDir, `${spec.name}.json`) : `${file}#${spec.name}`, input: spec }));
    const { findings } = analyzeMesh(sources);
    const errors = findings.filter((f) => f.severity === 'error').length;
    if (outDir) {
      mkdirSync(outDir, { recursive: true });
      for (const spec of conversion.specs) writeFileSync(join(outDir, `${spec.name}.json`), JSON.stringify(spec, null, 2) + '\n');
    }
    if (ctx.json) {
      printJson(ctx.io, { specs: conversion.specs, unsupported, notes: conversion.notes, findings });
    } else {
      if (outDir) ctx.io.stdout(`wrote ${conversion.specs.length} spec(s) to ${outDir}: ${conversion.specs.map((s) => s.name).join(', ')}\n`);
      else printJson(ctx.io, conversion.specs);
      if (unsupported.length > 0) ctx.io.stderr(`\nNot imported (no equivalent):\n${table(['WHERE', 'WHAT'], unsupported.map((u) => [u.at, u.what]))}`);
      if (conversion.notes.length > 0) ctx.io.stderr(`\nNotes:\n${conversion.notes.map((n) => `  - ${n}`).join('\n')}\n`);
      if (findings.length > 0) {
        ctx.io.stderr('\nThe imported specs need attention:\n');
        printFindings({ ...ctx.io, stdout: ctx.io.stderr }, findings);
      }
    }
    return errors > 0 ? 1 : 0;
  },
};

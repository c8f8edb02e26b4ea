import { Finding, MeshAnalysis, analyzeMesh } from '../../shared/state/mesh-analysis';
import { Command, printJson } from '../command';
import { CliError, CliIo } from '../io';
import { readSpecs } from '../specs';
import { table } from '../table';

/**
 * analyzeTarget reads and analyzes a file or folder of specs, with unreadable files as findings
 * at their path: what analyze prints, and what diff and apply check before they touch anything.
 */
export function analyzeTarget(target: string): MeshAnalysis {
  const { sources, errors } = readSpecs(target);
  const analysis = analyzeMesh(sources);
  const fileFindings: Finding[] = errors.map((e) => ({ file: e.file, path: '', message: e.message, severity: 'error' }));
  return { specs: analysis.specs, findings: [...fileFindings, ...analysis.findings] };
}

/** locate prints a finding as `file[index]: path: message`, the form editors and CI logs link. */
export const locate = (f: Finding) => `${f.file}${f.index !== undefined ? `[${f.index}]` : ''}${f.path ? `: ${f.path}` : ''}`;

/** printFindings writes findings as a table (or nothing when there are none). */
export function printFindings(io: CliIo, findings: readonly Finding[]): void {
  if (findings.length === 0) return;
  io.stdout(table(['SEVERITY', 'WHERE', 'SERVICE', 'PROBLEM'], findings.map((f) => [f.severity, locate(f), f.service ?? '-', f.message])));
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'validate a file or folder of specs offline, as the API would (for CI)',
  usage: 'meshctl analyze <dir|file> [--strict]',
  description: `Validates service specs offline, with the same checks the API runs before it writes a spec
(schema, port clashes, dependencies on undeclared services, policy the dependency's protocol
cannot carry, mTLS contradictions), plus what only the whole set shows: a name declared twice,
a caller that a dependency's inbound.allowedCallers shuts out, services nothing can reach.
Each file holds one spec or an array of them; a folder is read recursively (*.json).
Exits 1 when there is an error (or, with --strict, a warning); needs no control plane.`,
  optionsHelp: '  --strict            warnings fail too',
  options: { strict: { type: 'boolean' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const { findings, specs } = analyzeTarget(ctx.args[0]!);
    const errors = findings.filter((f) => f.severity === 'error').length;
    const warnings = findings.length - errors;
    if (ctx.json) printJson(ctx.io, { services: [...specs.keys()].sort(), errors, warnings, findings });
    else {
      printFindings(ctx.io, findings);
      ctx.io.stdout(`${findings.length > 0 ? '\n' : ''}${specs.size} service(s) analyzed: ${errors} error(s), ${warnings} warning(s)\n`);
    }
    return errors > 0 || (ctx.values.strict && warnings > 0) ? 1 : 0;
  },
};

/** requireValid analyzes specs for diff and apply, refusing (exit 1) when any has an error. */
export function requireValid(ctx: { io: CliIo; json: boolean }, target: string): MeshAnalysis {
  const analysis = analyzeTarget(target);
  const errors = analysis.findings.filter((f) => f.severity === 'error');
  if (errors.length > 0) {
    if (!ctx.json) printFindings(ctx.io, errors);
    throw new CliError(`${errors.length} error(s) in ${target}; nothing was compared or applied (see \`meshctl analyze ${target}\`)`, 1);
  }
  return analysis;
}

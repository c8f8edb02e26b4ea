import type { RebuildReport } from '../../shared/api/rebuild';
import { Command, printJson } from '../command';
import { apiError } from '../client';
import { CliError } from '../io';
import { ago } from '../table';

/** describeRebuild is `meshctl rebuild status` for people: whether the fleet is rendered as this deployment renders, and the runs. */
export function describeRebuild(report: RebuildReport, now: Date): string {
  const lines = [report.upToDate ? `up to date: every snapshot rendered with ${report.digest}` : `not up to date: this deployment renders with ${report.digest}, the last rebuild with ${report.renderedDigest ?? '(none yet)'}`];
  const run = (label: string, r: NonNullable<RebuildReport['last']>) =>
    `${label}: ${r.status}, ${r.reason}, started ${ago(now.getTime() - Date.parse(r.startedAt))} ago` +
    (r.finishedAt ? `, finished ${ago(now.getTime() - Date.parse(r.finishedAt))} ago` : `, up to ${r.cursor ?? '(not begun)'}`) +
    `; ${r.services} services, ${r.snapshots} snapshots, ${r.assignments} assignments in ${r.slices} slice(s)` +
    (r.errorCount > 0 ? `; ${r.errorCount} page error(s), ${r.failed.length} service(s) failing: ${r.failed.slice(0, 10).join(', ')}` : '');
  if (report.current) lines.push(run('under way', report.current));
  if (report.requestedAt) lines.push(`asked for ${ago(now.getTime() - Date.parse(report.requestedAt))} ago: starts at the next tick`);
  if (report.last) lines.push(run('last', report.last));
  for (const e of (report.current ?? report.last)?.errors.slice(-5) ?? []) lines.push(`  ${e}`);
  return lines.join('\n') + '\n';
}

export const rebuildCommand: Command = {
  name: 'rebuild',
  summary: 'render every snapshot again, or see where the fleet rebuild stands',
  usage: 'meshctl rebuild [start|status]',
  description: `A fleet rebuild renders every service's snapshot and assignment again from the stored state.
It starts by itself within a minute of a deploy that changes rendering (the render settings or
the code: their digest differs from the last rebuild's) and at \`npm start\`; the rebuild
function advances it a slice per minute. \`meshctl rebuild start\` asks for one now, even when
nothing changed (exit 0 once recorded); \`meshctl rebuild status\` (the default) shows whether
the stored snapshots are rendered as this deployment renders, the run under way and the last
one, and exits 1 when they are not up to date.`,
  options: {},
  minArgs: 0,
  maxArgs: 1,
  async run(ctx) {
    const action = ctx.args[0] ?? 'status';
    if (action !== 'start' && action !== 'status') throw new CliError(`unknown action "${action}": start or status`);
    let report: RebuildReport;
    if (action === 'start') {
      const answer = await ctx.client().post('/rebuild');
      if (answer.status !== 202) throw apiError('POST', '/rebuild', answer);
      report = answer.body as RebuildReport;
    } else report = await ctx.client().getOk<RebuildReport>('/rebuild');
    if (ctx.json) printJson(ctx.io, report);
    else ctx.io.stdout(describeRebuild(report, ctx.io.now()));
    return action === 'status' && !report.upToDate ? 1 : 0;
  },
};

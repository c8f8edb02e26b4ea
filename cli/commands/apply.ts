import type { ServiceRecord } from '../../shared/store/records';
import { ServiceSpec } from '../../shared/model/spec';
import { apiError, MeshClient } from '../client';
import { Command, Context, printJson } from '../command';
import { CliIo } from '../io';
import { Change, planChanges } from '../plan';
import { requireValid } from './analyze';

/** desiredAndPlan reads and analyzes a folder, reads what is declared, and plans the difference. */
async function desiredAndPlan(ctx: Context): Promise<Change[]> {
  const analysis = requireValid(ctx, ctx.args[0]!);
  const desired = new Map([...analysis.specs].map(([name, s]) => [name, s.spec]));
  const { services } = await ctx.client().getOk<{ services: ServiceRecord[] }>('/services');
  return planChanges(desired, services, Boolean(ctx.values.prune));
}

const past = { create: 'created', update: 'updated', delete: 'deleted' } as const;
const symbol = { create: '+', update: '~', delete: '-', unchanged: '=' } as const;

/** printPlan writes a plan as `kubectl diff` would for people: one line per service, one per changed field. */
function printPlan(io: CliIo, changes: readonly Change[]): void {
  for (const c of changes) {
    if (c.action === 'unchanged') continue;
    io.stdout(`${symbol[c.action]} ${c.action} ${c.service}\n`);
    if (c.action === 'update') {
      for (const f of c.fields) {
        io.stdout(`    ${f.path}: ${f.before === undefined ? '(unset)' : JSON.stringify(f.before)} → ${f.after === undefined ? '(unset)' : JSON.stringify(f.after)}\n`);
      }
    }
  }
  io.stdout(`${summary(changes)}\n`);
}

function summary(changes: readonly Change[]): string {
  const count = (a: Change['action']) => changes.filter((c) => c.action === a).length;
  return `${count('create')} to create, ${count('update')} to update, ${count('delete')} to delete, ${count('unchanged')} unchanged`;
}

const planJson = (changes: readonly Change[]) =>
  changes.map((c) => ({
    action: c.action,
    service: c.service,
    ...(c.action === 'create' ? { spec: c.spec } : {}),
    ...(c.action === 'update' ? { fields: c.fields } : {}),
  }));

const folderHelp = `Each file holds one spec or an array of them; a folder is read recursively (*.json).
The specs are analyzed first (as meshctl analyze does): an error stops the command before it
compares or writes anything. Services declared on the control plane but absent from the folder
are left alone unless --prune.`;

export const diffCommand: Command = {
  name: 'diff',
  summary: 'show what apply would change on the control plane',
  usage: 'meshctl diff <dir|file> [--prune]',
  description: `Compares a folder of specs with what the control plane has declared: services to create,
to update (with each changed field) and, with --prune, to delete. Exits 0 when there is no
difference, 1 when there is one (as diff does).
${folderHelp}`,
  optionsHelp: '  --prune             also list services the folder does not have (apply --prune deletes them)',
  options: { prune: { type: 'boolean' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const changes = await desiredAndPlan(ctx);
    if (ctx.json) printJson(ctx.io, { changes: planJson(changes) });
    else printPlan(ctx.io, changes);
    return changes.some((c) => c.action !== 'unchanged') ? 1 : 0;
  },
};

export const applyCommand: Command = {
  name: 'apply',
  summary: 'make the control plane match a folder of specs (GitOps), in dependency order',
  usage: 'meshctl apply <dir|file> [--dry-run] [--prune]',
  description: `Declares every spec of a folder that differs from the control plane's, each after the services
it depends on, and skips those already equal: applying the same folder twice writes nothing.
A progress bar shows on a terminal. --dry-run prints the plan and writes nothing.
${folderHelp}`,
  optionsHelp: `  --dry-run           print what would change; write nothing
  --prune             delete declared services the folder does not have (their callers first)`,
  options: { 'dry-run': { type: 'boolean' }, prune: { type: 'boolean' } },
  minArgs: 1,
  maxArgs: 1,
  async run(ctx) {
    const changes = await desiredAndPlan(ctx);
    if (ctx.values['dry-run']) {
      if (ctx.json) printJson(ctx.io, { dryRun: true, changes: planJson(changes) });
      else printPlan(ctx.io, changes);
      return 0;
    }
    const results = await applyChanges(ctx.client(), ctx.io, changes, !ctx.json);
    if (ctx.json) printJson(ctx.io, { dryRun: false, changes: results });
    else ctx.io.stdout(`${summary(changes).replace(/to (create|update|delete)/g, (_, a: keyof typeof past) => past[a])}\n`);
    return 0;
  },
};

/**
 * applyChanges writes a plan in order. A spec whose dependencies are not all declared yet (a
 * dependency cycle among new services) is first declared without those, and again whole once
 * they are. Stops at the first refusal, with the API's message.
 */
async function applyChanges(client: MeshClient, io: CliIo, changes: readonly Change[], narrate: boolean) {
  const writes = changes.filter((c) => c.action !== 'unchanged');
  const progress = new Progress(io, writes.length, narrate);
  const declared = new Set(changes.filter((c) => c.action !== 'create').map((c) => c.service));
  const later: ServiceSpec[] = [];
  const results: { action: string; service: string; revision?: number }[] = [];
  for (const c of changes) {
    if (c.action === 'unchanged') {
      results.push({ action: 'unchanged', service: c.service });
      continue;
    }
    if (c.action === 'delete') {
      await expectOk(client.delete(`/services/${c.service}`), 'DELETE', c.service);
      results.push({ action: past.delete, service: c.service });
    } else {
      const missing = c.spec.dependencies.filter((d) => !declared.has(d.service));
      const first = missing.length > 0 ? { ...c.spec, dependencies: c.spec.dependencies.filter((d) => declared.has(d.service)) } : c.spec;
      if (missing.length > 0) later.push(c.spec);
      const body = (await expectOk(client.put(`/services/${c.service}`, first), 'PUT', c.service)) as { revision?: number };
      declared.add(c.service);
      results.push({ action: past[c.action], service: c.service, ...(body.revision ? { revision: body.revision } : {}) });
    }
    progress.tick(`${past[c.action]} ${c.service}`);
  }
  for (const spec of later) await expectOk(client.put(`/services/${spec.name}`, spec), 'PUT', spec.name);
  progress.done();
  return results;
}

async function expectOk(answer: Promise<{ status: number; body: unknown }>, method: string, service: string): Promise<unknown> {
  const a = await answer;
  if (a.status >= 300) throw apiError(method, `/services/${service}`, a);
  return a.body;
}

/**
 * Progress shows how far an apply is: a bar redrawn in place on a terminal for many services,
 * one line per write otherwise (CI logs), nothing for `--output json`.
 */
class Progress {
  private done_ = 0;
  constructor(
    private readonly io: CliIo,
    private readonly total: number,
    private readonly narrate: boolean,
  ) {}
  tick(what: string): void {
    this.done_++;
    if (!this.narrate) return;
    if (this.io.interactive && this.total >= 5) {
      const width = 30;
      const filled = Math.round((this.done_ / this.total) * width);
      this.io.stderr(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done_}/${this.total} ${what.padEnd(40).slice(0, 40)}`);
    } else this.io.stdout(`${what}\n`);
  }
  done(): void {
    if (this.narrate && this.io.interactive && this.total >= 5) this.io.stderr('\n');
  }
}

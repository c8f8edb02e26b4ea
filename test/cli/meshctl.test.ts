import { commands } from '../../cli/meshctl';
import { runMeshctl } from '../support/meshctl';

describe('meshctl', () => {
  it('lists every command in its help', async () => {
    const run = await runMeshctl(['--help']);
    expect(run.code).toBe(0);
    for (const c of commands) expect(run.stdout).toMatch(new RegExp(`^  ${c.name} +${c.summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  });

  it.each(commands.map((c) => [c.name, c.usage]))('has --help for %s, with its usage and the global options', async (name, usage) => {
    const run = await runMeshctl([name, '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout.startsWith(`usage: ${usage}\n\n`)).toBe(true);
    expect(run.stdout).toContain('-o, --output FMT');
  });

  it('exits 2 with its usage on stderr when run without a command', async () => {
    const run = await runMeshctl([]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('usage: meshctl <command>');
    expect((await runMeshctl(['status', '-o', 'yaml'])).stderr).toBe('meshctl: --output must be table or json, got "yaml"\n');
  });
});

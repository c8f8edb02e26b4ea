import { analyzeCommand } from './commands/analyze';
import { applyCommand, diffCommand } from './commands/apply';
import { statusCommand } from './commands/status';
import { bootstrapCommand } from './commands/bootstrap';
import { proxylessCommand } from './commands/proxyless';
import { configCommand } from './commands/config';
import { importCommand } from './commands/import-appmesh';
import { pageCommand } from './commands/page';
import { rebuildCommand } from './commands/rebuild';
import { Command, contextFor, globalHelp, helpOf } from './command';
import { CliError, CliIo } from './io';

/** commands are meshctl's verbs, in the order `meshctl --help` lists them. */
export const commands: readonly Command[] = [statusCommand, analyzeCommand, diffCommand, applyCommand, configCommand, bootstrapCommand, proxylessCommand, rebuildCommand, importCommand, pageCommand];

const usage = () => `meshctl: operate the Envoy control plane from a terminal or a CI job.

usage: meshctl <command> [arguments] [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(18)}${c.summary}`).join('\n')}

Run \`meshctl <command> --help\` for a command's arguments and options.

${globalHelp}
`;

/**
 * meshctl runs one command line and returns its exit code: 0 all is well, 1 the command found
 * something wrong (problems in specs, Envoys behind, a difference), 2 it could not run (bad
 * usage, the control plane unreachable or refusing). It writes only through `io`.
 */
export async function meshctl(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    (name === undefined ? io.stderr : io.stdout)(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands.find((c) => c.name === name);
  try {
    if (!command) throw new CliError(`unknown command "${name}"; commands: ${commands.map((c) => c.name).join(', ')} (meshctl --help)`);
    const ctx = contextFor(command, rest, io);
    if (ctx === 'help') {
      io.stdout(helpOf(command));
      return 0;
    }
    return await command.run(ctx);
  } catch (err) {
    if (err instanceof CliError) {
      io.stderr(`meshctl: ${err.message}\n`);
      return err.exitCode;
    }
    io.stderr(`meshctl: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 2;
  }
}

import { parseArgs } from 'node:util';
import { MeshClient, defaultEndpoint } from './client';
import { CliError, CliIo } from './io';

type OptionSpec = { readonly type: 'string' | 'boolean'; readonly short?: string; readonly multiple?: boolean };

/** The options every command takes. */
export const globalOptions = {
  endpoint: { type: 'string' },
  output: { type: 'string', short: 'o' },
  sign: { type: 'boolean' },
  region: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Record<string, OptionSpec>;

export const globalHelp = `Global options:
  --endpoint URL      the control plane (default $MESHCTL_ENDPOINT, else ${defaultEndpoint}, the local one from \`npm start\`);
                      a Lambda function URL is signed with SigV4 and the standard AWS credential chain
  --sign              sign with SigV4 even when the endpoint is not a function URL
  --region REGION     the signing region (default: from the function URL, or AWS_REGION)
  -o, --output FMT    table (default, for people) or json (for scripts)
  -h, --help          this help`;

export type Values = Record<string, string | boolean | string[] | undefined>;

/** Context is what a command runs with: its positional arguments, its options and the io. */
export interface Context {
  readonly args: readonly string[];
  readonly values: Values;
  readonly io: CliIo;
  readonly json: boolean;
  /** option reads a string option (parseArgs has checked its type), or undefined when not given. */
  option(name: string): string | undefined;
  /** The API client for --endpoint; made on first use, so offline commands never need one. */
  client(): MeshClient;
}

/** Command is one meshctl verb: its help text, its own options and what it does (returning the exit code). */
export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** What it does, for `--help`: a paragraph for people. */
  readonly description: string;
  /** Its own options, one per line, for `--help`. */
  readonly optionsHelp?: string;
  readonly options: Record<string, OptionSpec>;
  readonly minArgs: number;
  readonly maxArgs: number;
  run(ctx: Context): Promise<number>;
}

/** contextFor parses a command's arguments strictly: an unknown option is a usage error naming it. */
export function contextFor(command: Command, argv: readonly string[], io: CliIo): Context | 'help' {
  let parsed;
  try {
    parsed = parseArgs({ args: [...argv], options: { ...globalOptions, ...command.options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message}\nRun \`meshctl ${command.name} --help\` for its usage.`);
  }
  const values = parsed.values as Values;
  if (values.help) return 'help';
  const output = (values.output as string | undefined) ?? 'table';
  if (output !== 'table' && output !== 'json') throw new CliError(`--output must be table or json, got "${output}"`);
  const args = parsed.positionals;
  if (args.length < command.minArgs || args.length > command.maxArgs) {
    throw new CliError(`usage: ${command.usage}\nRun \`meshctl ${command.name} --help\` for details.`);
  }
  let client: MeshClient | undefined;
  return {
    args,
    values,
    io,
    json: output === 'json',
    option: (name) => values[name] as string | undefined,
    client: () =>
      (client ??= new MeshClient(
        {
          endpoint: (values.endpoint as string | undefined) ?? io.env.MESHCTL_ENDPOINT ?? defaultEndpoint,
          ...(values.sign ? { sign: true } : {}),
          ...(values.region ? { region: values.region as string } : {}),
        },
        io,
      )),
  };
}

/** printJson writes a value as indented JSON on stdout, the `--output json` form every command shares. */
export function printJson(io: CliIo, value: unknown): void {
  io.stdout(JSON.stringify(value, null, 2) + '\n');
}

/** helpOf is a command's `--help`: usage, what it does, its options and the global ones. */
export function helpOf(c: Command): string {
  return `usage: ${c.usage}\n\n${c.description}\n\n${c.optionsHelp ? `Options:\n${c.optionsHelp}\n\n` : ''}${globalHelp}\n`;
}

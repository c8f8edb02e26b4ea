import type { Context } from 'aws-lambda';

const thresholds = { TRACE: 6, DEBUG: 8, INFO: 12, WARN: 16, ERROR: 20, CRITICAL: 24, SILENT: 28 } as const;
type LevelName = keyof typeof thresholds;

/** Keys a line's attributes may not set: Powertools drops them, with a warning line. */
const reservedKeys = ['level', 'message', 'sampling_rate', 'service', 'timestamp'];

const levelNamed = (raw: string | undefined): LevelName | undefined => {
  const name = raw?.trim().toUpperCase();
  return name && name in thresholds ? (name as LevelName) : undefined;
};

/** JsonLogger is the part of Powertools' Logger the xds handler uses. */
export interface JsonLogger {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
  /** addContext adds the invocation's keys (function name, ARN, memory, request id, cold start) to every later line. */
  addContext(context: Context): void;
}

export interface JsonLoggerOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  /** Where lines go: debug and info to stdout, warn and error to stderr, as Powertools' console does. */
  readonly write?: (stream: 'stdout' | 'stderr', line: string) => void;
}

/**
 * createJsonLogger writes the lines Powertools' Logger writes for the same calls: the same keys
 * in the same order (level, message, timestamp, service, cold_start, function_arn,
 * function_memory_size, function_name, function_request_id, sampling_rate, xray_trace_id, then
 * the call's attributes, less the reserved keys, with the same warning), errors formatted alike (name, location, message, stack, cause), and
 * the same levels (Lambda's log level, AWS_LAMBDA_LOG_LEVEL, when the function sets one, else
 * POWERTOOLS_LOG_LEVEL or LOG_LEVEL, else INFO). test/functions/json-logger.test.ts compares its
 * lines with Powertools' own.
 *
 * It is every function's logger (functions/lib/telemetry.ts) because Powertools' is 20 KB of
 * each bundle, and of the xds function's, which every poll of the fleet may cold-start
 * (docs/deploy.md, "Bundles and cold starts"). What it leaves out, no function uses:
 * debug sampling (it has no debug lines; the rate is still reported), log buffering, persistent
 * keys, custom formatters, time zones other than UTC (Lambda's), POWERTOOLS_DEV's indentation.
 */
export function createJsonLogger(serviceName: string, options: JsonLoggerOptions = {}): JsonLogger {
  const env = options.env ?? process.env;
  const now = options.now ?? (() => new Date());
  const write = options.write ?? ((stream, line) => process[stream].write(`${line}\n`));
  const alc = levelNamed(env.AWS_LAMBDA_LOG_LEVEL === 'FATAL' ? 'CRITICAL' : env.AWS_LAMBDA_LOG_LEVEL);
  const threshold = thresholds[alc ?? levelNamed(env.POWERTOOLS_LOG_LEVEL || env.LOG_LEVEL) ?? 'INFO'];
  const samplingRate = Number(env.POWERTOOLS_LOGGER_SAMPLE_RATE ?? 0) || 0;
  let onDemandColdStart = env.AWS_LAMBDA_INITIALIZATION_TYPE === 'on-demand';
  let context: Record<string, unknown> = {};

  const log = (level: Exclude<LevelName, 'SILENT' | 'CRITICAL'>, message: string, attributes: Record<string, unknown> = {}) => {
    if (thresholds[level] < threshold) return;
    const kept: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attributes)) {
      if (reservedKeys.includes(key)) log('WARN', `The key "${key}" is a reserved key and will be dropped.`);
      else kept[key] = value;
    }
    const line: Record<string, unknown> = {
      level,
      message,
      timestamp: now().toISOString(),
      service: serviceName,
      ...context,
      sampling_rate: samplingRate,
      xray_trace_id: /(?:^|;)Root=([^;]+)/.exec(env._X_AMZN_TRACE_ID ?? '')?.[1],
      ...kept,
    };
    for (const key of Object.keys(line)) if (line[key] === undefined || line[key] === '' || line[key] === null) delete line[key];
    write(level === 'WARN' || level === 'ERROR' ? 'stderr' : 'stdout', JSON.stringify(line, replacer()));
  };

  return {
    debug: (message, attributes) => log('DEBUG', message, attributes),
    info: (message, attributes) => log('INFO', message, attributes),
    warn: (message, attributes) => log('WARN', message, attributes),
    error: (message, attributes) => log('ERROR', message, attributes),
    addContext(lambda) {
      context = {
        cold_start: onDemandColdStart,
        function_arn: lambda.invokedFunctionArn,
        function_memory_size: lambda.memoryLimitInMB,
        function_name: lambda.functionName,
        function_request_id: lambda.awsRequestId,
      };
      onDemandColdStart = false;
    },
  };
}

/** replacer formats errors as Powertools does, writes bigints as strings and drops circular references. */
function replacer(): (this: unknown, key: string, value: unknown) => unknown {
  const ancestors: unknown[] = [];
  return function (this: unknown, _key, value) {
    const replaced = value instanceof Error ? formatError(value) : value;
    if (typeof replaced === 'bigint') return replaced.toString();
    if (typeof replaced === 'object' && replaced !== null) {
      while (ancestors.length > 0 && ancestors.at(-1) !== this) ancestors.pop();
      if (ancestors.includes(replaced)) return undefined;
      ancestors.push(replaced);
    }
    return replaced;
  };
}

function formatError(error: Error): Record<string, unknown> {
  const { name, message, stack, cause } = error;
  const formatted: Record<string, unknown> = {
    name,
    location: codeLocation(stack),
    message,
    stack,
    cause: cause instanceof Error ? formatError(cause) : cause,
  };
  for (const key in error) {
    if (!['name', 'message', 'stack', 'cause'].includes(key)) formatted[key] = (error as unknown as Record<string, unknown>)[key];
  }
  return formatted;
}

function codeLocation(stack: string | undefined): string {
  for (const line of stack?.split('\n') ?? []) {
    const match = /\(([^()]*?):(\d+?):(\d+?)\)\\?$/.exec(line);
    if (match) return `${match[1]}:${Number(match[2])}`;
  }
  return '';
}

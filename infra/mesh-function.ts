import { Duration, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { ICommandHooks, LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import * as path from 'node:path';
import { repoRoot } from './paths';

export interface MeshFunctionProps {
  /** The source entry: a TypeScript file exporting `handler`. */
  readonly entry: string;
  /** Powertools' service name: the `service` dimension of the function's metrics and the logger's `service`. */
  readonly serviceName: string;
  readonly description: string;
  /** MB. Chosen per function; see docs/deploy.md ("Memory and timeouts"). */
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly environment: Record<string, string>;
  /** Caps the function's concurrency where bursts would only contend on the same table items. @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /** @default logs.RetentionDays.ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Static files the function reads at run time rather than carries in its bundle (the admin
   * function's mesh page): copied, after bundling, into the folder `dir` beside the bundle,
   * where the handler finds them at `join(__dirname, dir)`. `from` is relative to the repository.
   * @default - none
   */
  readonly besideBundle?: { readonly dir: string; readonly from: string; readonly files: readonly string[] };
}

/**
 * MeshFunction fixes what every control-plane Lambda shares, so they are all alike: Node.js 22
 * on arm64 (Graviton: about 20% cheaper per GB-second than x86), active X-Ray tracing, JSON logs
 * in a log group the stack owns (no LogRetention helper function), and a local esbuild bundle
 * (never Docker) with source maps.
 *
 * The AWS SDK v3 is bundled (externalModules is empty), not taken from the runtime: the code
 * then runs with exactly the SDK versions in package-lock.json that the tests ran against, and
 * esbuild keeps only the clients and commands used. The cost is a larger bundle to load on a
 * cold start; docs/deploy.md records the sizes and load times measured. The few calls whose SDK
 * client costs more than the call is worth (KMS; EC2's DescribeInstances; Auto Scaling; SQS's
 * SendMessage) are signed requests of our own (functions/lib/aws-request.ts), each tested
 * against the SDK's client on the same answers.
 *
 * X-Ray: every function keeps active tracing (Lambda records each invocation's segment, its
 * init and its duration), and none carries the X-Ray SDK, so AWS calls are not subsegments.
 * Powertools' tracer with the X-Ray SDK was about 85 KB of every bundle and about 30% of a
 * cold start's module load (docs/deploy.md, "Bundles and cold starts"); a slow invocation still
 * shows in its segment, and each service's own metrics (DynamoDB's latency and throttles) say
 * which. Logs and metrics are functions/lib/json-logger.ts and emf.ts, the lines Powertools
 * writes, through a middy middleware (functions/lib/telemetry.ts; middy itself is 3 KB);
 * test/infra/bundle-size.test.ts fails if the X-Ray SDK or Powertools come back.
 */
export class MeshFunction extends NodejsFunction {
  constructor(scope: Construct, id: string, props: MeshFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH,
    });
    super(scope, id, {
      entry: props.entry,
      handler: 'handler',
      projectRoot: repoRoot,
      depsLockFilePath: path.join(repoRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      description: props.description,
      memorySize: props.memorySize,
      timeout: props.timeout,
      tracing: lambda.Tracing.ACTIVE,
      loggingFormat: lambda.LoggingFormat.JSON,
      // Lambda's own START/END/REPORT lines are INFO: at WARN they are not written. For the xds
      // function, which runs on every poll of the fleet, they were the largest line of the cost
      // model (docs/cost.md); errors, timeouts and our own logs still reach CloudWatch.
      systemLogLevelV2: lambda.SystemLogLevel.WARN,
      logGroup,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        // Stack traces in TypeScript terms; measured cost: about 25 ms more module load for xds.
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: props.besideBundle ? { ...meshBundling, commandHooks: copyBesideBundle(props.besideBundle) } : meshBundling,
    });
    writeOnlyOwnLogs(this, logGroup);
    Validations.of(this).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'Resource "*" is granted only to actions that support no resource-level permissions: X-Ray PutTraceSegments and ' +
          'PutTelemetryRecords (active tracing) and, for the lifecycle and reconciler functions, ec2:DescribeInstances, ' +
          'autoscaling:DescribeAutoScalingInstances and ecs:ListTasks (narrowed by ecs:cluster when clusters are given), and, for ' +
          'the rollout controller, cloudwatch:GetMetricData; ' +
          'test/infra/example-app.test.ts pins that list',
      },
      {
        id: 'AwsSolutions-L1',
        reason:
          'Pinned to nodejs22.x on purpose: the bundle targets node22 (meshBundling) and the tests run on the same major; ' +
          'moving to a newer runtime is a deliberate, tested change, not a drift',
      },
    );
  }
}

/**
 * copyBesideBundle copies files into a folder of the function's asset directory once esbuild
 * has written the bundle there. The hook gets the project and output directories as the
 * bundling sees them (local paths here, as bundling is never Docker), so the copy works in
 * either; the asset's hash is of the output directory, so a changed file is a new asset.
 */
function copyBesideBundle(beside: NonNullable<MeshFunctionProps['besideBundle']>): ICommandHooks {
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  return {
    beforeBundling: () => [],
    beforeInstall: () => [],
    afterBundling: (inputDir, outputDir) => {
      const to = path.join(outputDir, beside.dir);
      return [`mkdir -p ${quote(to)}`, `cp ${beside.files.map((f) => quote(path.join(inputDir, beside.from, f))).join(' ')} ${quote(to)}`];
    },
  };
}

/**
 * writeOnlyOwnLogs replaces the AWSLambdaBasicExecutionRole managed policy Lambda gives a new
 * role (logs:CreateLogGroup, CreateLogStream and PutLogEvents on every log group) with writes
 * to the function's own log group, which the stack creates: nothing else is needed, as the
 * role of a function with a logGroup never creates one.
 */
function writeOnlyOwnLogs(fn: NodejsFunction, logGroup: logs.LogGroup): void {
  const role = fn.role as iam.Role;
  (role.node.defaultChild as iam.CfnRole).managedPolicyArns = undefined;
  logGroup.grantWrite(role);
}

/**
 * lambdaAliases replace, in the bundles only, modules that cannot do anything inside Lambda
 * (or for our calls) with ones that do the same there. The cold-start bench and
 * test/infra/bundle-size.test.ts bundle with the same aliases.
 * - The SDK's default credential chain becomes the provider that reads the role's credentials
 *   from the environment (functions/lib/lambda-credentials.ts says why; about 130 KB).
 * - `@smithy/core/event-streams`, which the SDK's protocols load only to serialise or read an
 *   event stream, becomes a module that refuses (functions/lib/no-event-streams.ts): no
 *   operation the functions call streams (14 KB, with the checksums it brings).
 * - `mnemonist/lru-cache`, the DynamoDB client's endpoint-discovery cache, becomes a Map-based
 *   LRU with the five methods that cache calls (functions/lib/lru-cache.ts; 7 KB).
 */
export const lambdaAliases: Readonly<Record<string, string>> = {
  '@aws-sdk/credential-provider-node': path.join(repoRoot, 'functions/lib/lambda-credentials.ts'),
  '@smithy/core/event-streams': path.join(repoRoot, 'functions/lib/no-event-streams.ts'),
  'mnemonist/lru-cache': path.join(repoRoot, 'functions/lib/lru-cache.ts'),
};

/**
 * meshBundling is the esbuild configuration of every function. CommonJS output, which
 * test/infra/example-app.test.ts checks by loading each bundle and finding its handler.
 *
 * `mainFields` module first: packages are read from their ES module builds (the SDK's
 * `dist-es`), which esbuild tree-shakes to the commands and schemas a function uses. esbuild's
 * default for Node (`main` first) takes the SDK's `dist-cjs`, one prebundled file per package
 * that cannot be shaken: the xds bundle was then 463 KB instead of 234 KB (docs/deploy.md).
 */
export const meshBundling = {
  forceDockerBundling: false,
  format: OutputFormat.CJS,
  minify: true,
  sourceMap: true,
  sourceMapMode: SourceMapMode.DEFAULT,
  sourcesContent: false,
  externalModules: [] as string[],
  target: 'node22',
  mainFields: ['module', 'main'] as string[],
  logLevel: LogLevel.ERROR,
  esbuildArgs: Object.fromEntries(Object.entries(lambdaAliases).map(([from, to]) => [`--alias:${from}`, to])),
} as const;

/**
 * meshEsbuildOptions are meshBundling in esbuild's own API, for what must bundle exactly as the
 * stack does without synthesizing it: the cold-start bench and test/infra/bundle-size.test.ts.
 */
export const meshEsbuildOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  minify: meshBundling.minify,
  target: meshBundling.target,
  mainFields: [...meshBundling.mainFields],
  external: [...meshBundling.externalModules],
  alias: { ...lambdaAliases },
} as const;

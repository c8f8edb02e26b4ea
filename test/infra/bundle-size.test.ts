import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BundleFacts, bundle } from '../../bench/bundles';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { useDynalite } from '../support/dynamo';

const dynalite = useDynalite();
const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** The xds function's bundle budget (issue #20): minified, as the stack deploys it. */
const xdsBudgetBytes = 250 * 1024;

/**
 * Packages the xds bundle must not carry again: zod (spec validation is the write path's),
 * the KMS client (one Decrypt as a signed request), the X-Ray SDK and Powertools' tracer
 * (infra/mesh-function.ts says why), Powertools' logger and metrics and middy (the same lines
 * written by functions/lib/json-logger.ts and emf.ts), and the modules the aliases replace.
 */
const notInXds = [
  'zod',
  '@aws-sdk/client-kms',
  'aws-xray-sdk-core',
  '@aws-lambda-powertools/tracer',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/metrics',
  '@middy/core',
  'mnemonist',
  '@aws-sdk/credential-provider-node',
];

let dir: string;
let outfile: string;
let facts: BundleFacts;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  outfile = join(dir, 'xds.js');
  facts = bundle(root, join(root, 'functions', 'xds', 'index.ts'), outfile);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the xds bundle, built as infra/mesh-function.ts builds it', () => {
  it(`is at most ${xdsBudgetBytes / 1024} KB`, () => {
    expect(facts.bytes).toBeGreaterThan(50 * 1024); // a real bundle, not an empty one
    expect(facts.bytes).toBeLessThanOrEqual(xdsBudgetBytes);
  });

  it('carries none of the packages a poll does not need, and no package twice', () => {
    const names = facts.packages.map((p) => p.name);
    expect(names).toContain('@aws-sdk/client-dynamodb');
    expect(names.filter((n) => notInXds.includes(n))).toEqual([]);
    expect(facts.duplicates).toEqual([]);
  });

  it('serves a poll from a real table, and refuses a role not bound to the service (the aliased SDK works)', async () => {
    const store = await dynalite.newStore();
    await declareService(
      store,
      { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/mesh/orders-task'] } },
      defaultRenderSettings,
    );
    const poll = (userArn: string) => ({
      version: '2.0',
      rawPath: '/v3/discovery:clusters',
      headers: { 'content-type': 'application/json' },
      requestContext: { http: { method: 'POST', path: '/v3/discovery:clusters' }, authorizer: { iam: { userArn } } },
      body: JSON.stringify({ node: { id: 'i-0abc', cluster: 'orders' }, type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }),
      isBase64Encoded: false,
    });
    const script = join(dir, 'poll.js');
    writeFileSync(
      script,
      `const { handler } = require(${JSON.stringify(outfile)});
       (async () => {
         const out = [];
         for (const arn of JSON.parse(process.argv[2])) out.push(await handler((${poll.toString()})(arn), { awsRequestId: 'r1' }));
         process.stdout.write(JSON.stringify(out));
       })().catch((err) => { process.stderr.write(String(err && err.stack)); process.exit(1); });`,
    );
    const env = {
      PATH: process.env.PATH,
      TABLE_NAME: store.tableName,
      DYNAMODB_ENDPOINT: dynalite.db().endpoint,
      AWS_REGION: 'us-east-1',
      XDS_AUTH_MODE: 'iam',
      SNAPSHOT_CACHE_TTL_MS: '0',
      POWERTOOLS_LOG_LEVEL: 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const arns = ['arn:aws:sts::111122223333:assumed-role/orders-task/i-0abc', 'arn:aws:sts::111122223333:assumed-role/payments-task/i-0def'];
    const { stdout } = await run(process.execPath, [script, JSON.stringify(arns)], { env, timeout: 60_000 });
    const [served, refused] = JSON.parse(stdout) as { statusCode: number; body: string }[];
    expect(served!.statusCode).toBe(200);
    const answer = JSON.parse(served!.body) as { type_url: string; resources: { name: string }[] };
    expect(answer.type_url).toBe('type.googleapis.com/envoy.config.cluster.v3.Cluster');
    expect(answer.resources.length).toBeGreaterThan(0);
    expect(refused!.statusCode).toBe(403);
  }, 90_000);
});

describe('a traced function, bundled with the same aliases', () => {
  it('still traces its AWS SDK clients with X-Ray (the aliased semver and event streams are never called)', async () => {
    const entry = join(dir, 'traced.ts');
    writeFileSync(
      entry,
      `import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
       import { traced } from ${JSON.stringify(join(root, 'functions', 'lib', 'observability'))};
       const client = traced(new DynamoDBClient({ region: 'us-east-1' }));
       export const handler = () => client.middlewareStack.identify();`,
    );
    const out = join(dir, 'traced.js');
    bundle(root, entry, out, { nodePaths: [join(root, 'node_modules')] });
    const env = { PATH: process.env.PATH, AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs22.x', AWS_XRAY_CONTEXT_MISSING: 'IGNORE_ERROR', POWERTOOLS_SERVICE_NAME: 'renewal' };
    const { stdout } = await run(process.execPath, ['-e', `process.stdout.write(JSON.stringify(require(${JSON.stringify(out)}).handler()))`], { env, timeout: 60_000 });
    expect((JSON.parse(stdout) as string[]).some((m) => m.startsWith('XRaySDKInstrumentation'))).toBe(true);
  }, 90_000);
});

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { BundleFacts, bundle, functionEntries } from '../../bench/bundles';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { useDynalite } from '../support/dynamo';

const dynalite = useDynalite();
const run = promisify(execFile);
const root = join(__dirname, '..', '..');

/** The xds function's bundle budget (issue #20): minified, as the stack deploys it. */
const xdsBudgetBytes = 250 * 1024;

/** Every other function's budget (issue #20). */
const functionBudgetBytes = 400 * 1024;

/**
 * What zod may add to a function that validates: its schemas are zod/mini's (shared/model/zod.ts),
 * about 32 KB with the English messages; classic zod's were 95 KB, which kept admin,
 * catalog-resource and rollouts over the budget.
 */
const zodBudgetBytes = 40 * 1024;

/**
 * Packages no function bundle may carry again: the X-Ray SDK and Powertools (tracer, logger,
 * metrics), whose lines functions/lib/json-logger.ts and emf.ts write
 * (infra/mesh-function.ts says why); the SDK clients whose calls are signed requests of our own
 * (KMS, EC2, ECS, Auto Scaling, SQS, CloudWatch: functions/lib/aws-request.ts); and the modules the aliases replace.
 */
const notInAnyFunction = [
  'aws-xray-sdk-core',
  'cls-hooked',
  'semver',
  '@aws-lambda-powertools/tracer',
  '@aws-lambda-powertools/logger',
  '@aws-lambda-powertools/metrics',
  '@aws-lambda-powertools/commons',
  '@aws-sdk/client-kms',
  '@aws-sdk/client-ec2',
  '@aws-sdk/client-auto-scaling',
  '@aws-sdk/client-sqs',
  '@aws-sdk/client-ecs',
  '@aws-sdk/client-cloudwatch',
  'mnemonist',
  '@aws-sdk/credential-provider-node',
];

/**
 * The xds bundle carries no zod either (spec validation is the write path's), nor middy: it runs
 * on every poll of the fleet and wraps its one handler itself (functions/xds/handler.ts).
 */
const notInXds = [...notInAnyFunction, 'zod', '@middy/core'];

let dir: string;
let outfile: string;
let facts: BundleFacts;
const all = new Map<string, BundleFacts>();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'bundle-size-'));
  outfile = join(dir, 'xds.js');
  for (const name of functionEntries(root)) all.set(name, bundle(root, join(root, 'functions', name, 'index.ts'), join(dir, `${name}.js`)));
  facts = all.get('xds')!;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('every function bundle, built as infra/mesh-function.ts builds it', () => {
  it('is every function under functions/', () => {
    expect([...all.keys()]).toEqual(expect.arrayContaining(['admin', 'catalog-resource', 'lifecycle', 'lifecycle-complete', 'push-certificate', 'reconciler', 'renewal', 'rollouts', 'xds']));
  });

  it(`is at most ${functionBudgetBytes / 1024} KB`, () => {
    const over = [...all]
      .filter(([name]) => name !== 'xds')
      .filter(([, f]) => f.bytes > functionBudgetBytes)
      .map(([name, f]) => `${name}: ${(f.bytes / 1024).toFixed(1)} KB`);
    expect(over).toEqual([]);
    for (const f of all.values()) expect(f.bytes).toBeGreaterThan(50 * 1024); // real bundles, not empty ones
  });

  it(`carries zod/mini, not classic zod: at most ${zodBudgetBytes / 1024} KB of zod where the spec is validated`, () => {
    const zodBytes = (name: string) => all.get(name)!.packages.find((p) => p.name === 'zod')?.bytes ?? 0;
    for (const name of ['admin', 'catalog-resource', 'rollouts', 'lifecycle']) expect(zodBytes(name)).toBeGreaterThan(10 * 1024); // they do validate
    const over = [...all.keys()].filter((name) => zodBytes(name) > zodBudgetBytes).map((name) => `${name}: ${(zodBytes(name) / 1024).toFixed(1)} KB`);
    expect(over).toEqual([]);
  });

  it('carries none of the packages the functions replaced, and no package twice', () => {
    const found = [...all].flatMap(([name, f]) => f.packages.filter((p) => notInAnyFunction.includes(p.name)).map((p) => `${name}: ${p.name}`));
    expect(found).toEqual([]);
    expect([...all].filter(([, f]) => f.duplicates.length > 0).map(([name, f]) => `${name}: ${f.duplicates.join(', ')}`)).toEqual([]);
  });
});

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

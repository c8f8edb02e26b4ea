import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ExampleMeshStack } from '../../infra/example-stack';

interface Report {
  pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[];
}

/**
 * The example app checked by cdk-nag's AWS Solutions rules, as `cdk synth` would with the pack
 * added: every finding is fixed or acknowledged with a reason where it arises (the control
 * plane's constructs for theirs, the example stack for its workload's). Bundling is skipped:
 * the rules read the template, not the code.
 */
describe.each([
  ['', false],
  [' with the push tier (-c pushTier=true)', true],
])('cdk-nag AwsSolutionsChecks on the example app%s', (_name, pushTier) => {
  let findings: string[];
  let acknowledged: { path: string; id: string; reason: string }[];
  beforeAll(() => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-'));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
    new ExampleMeshStack(app, 'EnvoyMeshExample', { pushTier });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failed: unknown;
    try {
      app.synth();
    } catch (err) {
      failed = err;
    }
    const reportFile = path.join(outdir, 'validation-report.json');
    const report: Report = fs.existsSync(reportFile) ? JSON.parse(fs.readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
    findings = report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
    if (failed && findings.length === 0) throw failed;
    // Each acknowledgment is recorded as { "Annotation::<rule id>": reason } on its construct.
    acknowledged = app.node.findAll().flatMap((c) =>
      c.node.metadata
        .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
        .flatMap((m) => Object.entries(m.data as Record<string, string>))
        .filter(([key]) => key.startsWith('Annotation::AwsSolutions-'))
        .map(([key, reason]) => ({ path: c.node.path, id: key.slice('Annotation::'.length), reason })),
    );
    fs.rmSync(outdir, { recursive: true, force: true });
  }, 120_000);

  it('reports no unacknowledged finding', () => {
    expect(findings).toEqual([]);
  });

  it('acknowledges only these rules, each with a reason of its own', () => {
    for (const a of acknowledged) expect(a.reason.length).toBeGreaterThan(60);
    const rules = [...new Set(acknowledged.map((a) => a.id.replace(/\[.*\]$/, '')))].sort();
    // The push tier adds two: its load balancer's VPC-CIDR ingress (a token) and its TCP listener, which logs nothing.
    const pushTierRules = pushTier ? ['AwsSolutions-EC23', 'AwsSolutions-ELB2'] : [];
    expect(rules).toEqual(['AwsSolutions-AS3', 'AwsSolutions-ECS2', ...pushTierRules, 'AwsSolutions-IAM4', 'AwsSolutions-IAM5', 'AwsSolutions-L1', 'AwsSolutions-SQS3'].sort());
    // IAM4 (AWS managed policies) only on the example's instance role: the functions' roles have none.
    expect(acknowledged.filter((a) => a.id.startsWith('AwsSolutions-IAM4')).map((a) => a.path)).toEqual(['EnvoyMeshExample/PaymentsRole']);
  });
});

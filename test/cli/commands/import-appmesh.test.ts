import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { runMeshctl } from '../../support/meshctl';

const fixtures = join(__dirname, '..', 'appmesh', 'fixtures');

describe('meshctl import appmesh', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
  });
  afterAll(async () => cp.close());

  it('writes one spec per service that analyze passes and apply declares on a control plane', async () => {
    const out = mkdtempSync(join(tmpdir(), 'meshctl-import-'));
    const run = await runMeshctl(['import', 'appmesh', join(fixtures, 'describe-outputs.json'), '--out-dir', out]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`wrote 3 spec(s) to ${out}: cart, catalog, frontend\n`);
    expect(run.stderr).toContain('Not imported (no equivalent):');
    expect(run.stderr).not.toContain('catalog-admin'); // its path, method and regex header match became routes[]
    expect(readdirSync(out).sort()).toEqual(['cart.json', 'catalog.json', 'frontend.json']);
    expect((await runMeshctl(['analyze', out])).code).toBe(0);
    const applied = await runMeshctl(['apply', out, '--endpoint', cp.url]);
    expect(applied.stdout).toBe('created catalog\ncreated cart\ncreated frontend\n3 created, 0 updated, 0 deleted, 0 unchanged\n');
    const cart = (await request(cp.url, 'GET', '/services/cart')).body as { spec: { dependencies: { service: string; split?: unknown }[] } };
    expect(cart.spec.dependencies[0]).toMatchObject({
      service: 'catalog',
      split: { subsets: [{ weight: 90 }, { weight: 10 }] },
      routes: [{ match: { exactPath: '/admin/reindex', method: 'POST' } }, { match: { headers: [{ name: 'x-canary', exact: 'true' }] } }],
    });
  });

  it('prints specs, what was not imported and notes as JSON for scripts', async () => {
    const run = await runMeshctl(['import', 'appmesh', join(fixtures, 'cloudformation.json'), '-o', 'json']);
    expect(run.code).toBe(0);
    const result = run.json<{ specs: { name: string }[]; unsupported: { at: string; what: string }[]; notes: string[]; findings: { severity: string }[] }>();
    expect(result.specs.map((s) => s.name)).toEqual(['checkout', 'ledger', 'payments', 'edge']);
    expect(result.unsupported.map((u) => u.at)).not.toContain('Resources.PaymentsRefundsRoute.spec.http2Route.match');
    const checkout = result.specs[0] as unknown as { dependencies: { service: string; routes?: unknown }[] };
    expect(checkout.dependencies.find((d) => d.service === 'payments')?.routes).toContainEqual({
      match: { pathPrefix: '/refunds', method: 'GET' },
      subset: { family: 'payments-green' },
    });
    // The gateway's route is what calls checkout, so analysis finds it reachable.
    expect(result.findings).toEqual([]);
  });

  it('refuses an unknown source, a missing file and a file without App Mesh resources, saying which', async () => {
    expect(await runMeshctl(['import', 'istio', 'x.json'])).toMatchObject({ code: 2, stderr: 'meshctl: meshctl import knows one source, appmesh; got "istio"\n' });
    expect(await runMeshctl(['import', 'appmesh', '/nonexistent.json'])).toMatchObject({ code: 2, stderr: 'meshctl: /nonexistent.json: no such file\n' });
    const empty = join(mkdtempSync(join(tmpdir(), 'meshctl-import-')), 'empty.json');
    writeFileSync(empty, JSON.stringify({ Resources: { Bucket: { Type: 'AWS::S3::Bucket' } } }));
    expect(await runMeshctl(['import', 'appmesh', empty])).toMatchObject({ code: 1, stderr: `meshctl: ${empty}: no App Mesh resource with a spec found\n` });
  });
});

import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { runMeshctl } from '../../support/meshctl';

const examples = join(__dirname, '..', '..', '..', 'examples');

/** A copy of the example specs a test may edit. */
function examplesCopy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-apply-'));
  cpSync(examples, dir, { recursive: true });
  return dir;
}

interface ChangesJson {
  dryRun?: boolean;
  changes: { action: string; service: string; fields?: { path: string; before?: unknown; after?: unknown }[]; revision?: number }[];
}

describe('meshctl diff and apply', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
  });
  afterAll(async () => cp.close());
  const services = async () =>
    ((await request(cp.url, 'GET', '/services')).body as { services: { spec: { name: string }; revision: number }[] }).services.map((r) => [
      r.spec.name,
      r.revision,
    ]);

  it('diff lists what a fresh control plane lacks in dependency order and exits 1; --dry-run writes nothing', async () => {
    const diff = await runMeshctl(['diff', examples, '--endpoint', cp.url, '-o', 'json']);
    expect(diff.code).toBe(1);
    const changes = diff.json<ChangesJson & { changes: { spec?: { name: string } }[] }>().changes;
    expect(changes.map(({ action, service }) => ({ action, service }))).toEqual([
      { action: 'create', service: 'payments' },
      { action: 'create', service: 'ledger' },
      { action: 'create', service: 'orders' },
    ]);
    // Creates carry the spec as it will be declared (parsed: defaults such as dependencies [] filled in).
    expect(changes[0]!.spec).toEqual({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', dependencies: [], inbound: { timeoutMs: 5000 } });
    const dry = await runMeshctl(['apply', examples, '--dry-run', '--endpoint', cp.url]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('+ create payments\n+ create ledger\n+ create orders\n3 to create, 0 to update, 0 to delete, 0 unchanged\n');
    expect(await services()).toEqual([]);
  });

  it('apply declares every service after its dependencies, and applying again writes nothing', async () => {
    const first = await runMeshctl(['apply', examples, '--endpoint', cp.url]);
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toBe('created payments\ncreated ledger\ncreated orders\n3 created, 0 updated, 0 deleted, 0 unchanged\n');
    expect(await services()).toEqual([
      ['ledger', 1],
      ['orders', 1],
      ['payments', 1],
    ]);
    const again = await runMeshctl(['apply', examples, '--endpoint', cp.url, '--output', 'json']);
    expect(again.code).toBe(0);
    expect(again.json<ChangesJson>()).toEqual({
      dryRun: false,
      changes: ['payments', 'ledger', 'orders'].map((service) => ({ action: 'unchanged', service })),
    });
    expect(await services()).toEqual([
      ['ledger', 1],
      ['orders', 1],
      ['payments', 1],
    ]);
    const diff = await runMeshctl(['diff', examples, '--endpoint', cp.url]);
    expect({ code: diff.code, stdout: diff.stdout }).toEqual({ code: 0, stdout: '0 to create, 0 to update, 0 to delete, 3 unchanged\n' });
  });

  it('diff shows changed fields, --prune lists services the folder lacks, and apply --prune makes it so', async () => {
    expect((await request(cp.url, 'PUT', '/services/audit', { name: 'audit', inboundPort: 15009, appPort: 8089, protocol: 'tcp', inbound: { allowedCallers: ['*'] } })).status).toBe(201);
    const dir = examplesCopy();
    writeFileSync(join(dir, 'payments.json'), JSON.stringify({ name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http', inbound: { timeoutMs: 8000 } }));
    const diff = await runMeshctl(['diff', dir, '--prune', '--endpoint', cp.url]);
    expect(diff.code).toBe(1);
    expect(diff.stdout).toBe('~ update payments\n    inbound.timeoutMs: 5000 → 8000\n- delete audit\n0 to create, 1 to update, 1 to delete, 2 unchanged\n');
    const withoutPrune = await runMeshctl(['apply', dir, '--endpoint', cp.url, '-o', 'json']);
    expect(withoutPrune.json<ChangesJson>().changes.filter((c) => c.action !== 'unchanged')).toEqual([
      { action: 'updated', service: 'payments', revision: 2 },
    ]);
    const pruned = await runMeshctl(['apply', dir, '--prune', '--endpoint', cp.url]);
    expect(pruned.stdout).toBe('deleted audit\n0 created, 0 updated, 1 deleted, 3 unchanged\n');
    expect((await services()).map(([name]) => name)).toEqual(['ledger', 'orders', 'payments']);
  });

  it('refuses a folder with errors before it compares or writes anything, with exit code 1', async () => {
    const dir = examplesCopy();
    writeFileSync(join(dir, 'ledger.json'), JSON.stringify({ name: 'ledger', inboundPort: 15001, appPort: 8081, protocol: 'tcp' }));
    const run = await runMeshctl(['apply', dir, '--endpoint', cp.url]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('orders.json: dependencies.1.retries');
    expect(run.stderr).toBe(`meshctl: 4 error(s) in ${dir}; nothing was compared or applied (see \`meshctl analyze ${dir}\`)\n`);
    expect(((await request(cp.url, 'GET', '/services/ledger')).body as { spec: { protocol: string } }).spec.protocol).toBe('grpc');
  });

  it('declares new services that depend on each other in a cycle: first without the missing ones, then whole', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshctl-cycle-'));
    const ping = { name: 'ping', inboundPort: 15010, appPort: 8090, protocol: 'http', dependencies: [{ service: 'pong', localPort: 9010 }] };
    const pong = { name: 'pong', inboundPort: 15011, appPort: 8091, protocol: 'http', dependencies: [{ service: 'ping', localPort: 9011 }] };
    writeFileSync(join(dir, 'cycle.json'), JSON.stringify([ping, pong]));
    const run = await runMeshctl(['apply', dir, '--endpoint', cp.url]);
    expect(run.code).toBe(0);
    const declared = await Promise.all(['ping', 'pong'].map(async (n) => ((await request(cp.url, 'GET', `/services/${n}`)).body as { spec: unknown }).spec));
    expect(declared).toEqual([expect.objectContaining(ping), expect.objectContaining(pong)]);
    expect((await runMeshctl(['diff', dir, '--endpoint', cp.url])).code).toBe(0);
  });

  it('shows a progress bar on a terminal when there are many services', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'meshctl-many-'));
    const many = Array.from({ length: 6 }, (_, i) => ({ name: `svc-${i}`, inboundPort: 15100 + i, appPort: 8100 + i, protocol: 'http', inbound: { allowedCallers: ['*'] } }));
    writeFileSync(join(dir, 'many.json'), JSON.stringify(many));
    const run = await runMeshctl(['apply', dir, '--endpoint', cp.url], { interactive: true });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('\r[##############################] 6/6 created svc-5');
    expect(run.stdout).toBe('6 created, 0 updated, 0 deleted, 0 unchanged\n');
  });
});

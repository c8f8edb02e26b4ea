import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { runMeshctl } from '../../support/meshctl';

const examples = join(__dirname, '..', '..', '..', 'examples');

/** folder writes spec files into a fresh folder and returns its path. */
function folder(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'meshctl-analyze-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  }
  return dir;
}

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };

describe('meshctl analyze', () => {
  it('passes the example specs with exit code 0', async () => {
    const run = await runMeshctl(['analyze', examples, '--output', 'json']);
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ services: ['ledger', 'orders', 'payments'], errors: 0, warnings: 0, findings: [] });
  });

  it('reports every problem located by file and field path, and exits 1', async () => {
    const dir = folder({
      'payments.json': { ...payments, inbound: { allowedCallers: ['ledger'] } },
      'orders.json': {
        name: 'orders',
        inboundPort: 15000,
        appPort: 15000,
        protocol: 'http',
        dependencies: [
          { service: 'payments', localPort: 9001, retries: { retryOn: ['unavailable'] } },
          { service: 'billing', localPort: 9002 },
        ],
      },
      'nested/broken.json': '{ "name": ',
      'nested/typo.json': [{ ...payments, name: 'refunds', inbondPort: 1 }],
    });
    const run = await runMeshctl(['analyze', dir, '-o', 'json'], {});
    expect(run.code).toBe(1);
    const { findings } = run.json<{ findings: { file: string; path: string; severity: string; message: string; index?: number }[] }>();
    // Files are named relative to the working directory, as a CI log shows them; here, relative to the folder.
    const located = findings.map((f) => ({ at: `${relative(dir, resolve(f.file))}${f.index !== undefined ? `[${f.index}]` : ''}:${f.path}`, severity: f.severity }));
    expect(located).toEqual([
      { at: 'nested/broken.json:', severity: 'error' },
      { at: 'nested/typo.json[0]:', severity: 'error' },
      { at: 'orders.json:appPort', severity: 'error' },
      { at: 'orders.json:dependencies.0.retries.retryOn.0', severity: 'error' },
      { at: 'orders.json:dependencies.0.service', severity: 'error' },
      { at: 'orders.json:dependencies.1.service', severity: 'error' },
      { at: 'orders.json:inbound.allowedCallers', severity: 'warning' },
      { at: 'payments.json:inbound.allowedCallers.0', severity: 'warning' },
    ]);
    expect(findings.map((f) => f.message)).toEqual([
      expect.stringContaining('not valid JSON'),
      'unknown field "inbondPort"',
      'clashes with inboundPort 15000',
      '"unavailable" is a gRPC retry condition; "payments" speaks http',
      '"payments" does not allow this service to call it: its inbound.allowedCallers is [ledger]',
      '"billing" is not a declared service',
      expect.stringContaining('is unreachable'),
      '"ledger" is not a declared service',
    ]);
  });

  it('prints a table for people and fails on warnings only with --strict', async () => {
    const dir = folder({ 'payments.json': payments });
    const lenient = await runMeshctl(['analyze', dir]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/^SEVERITY\s+WHERE\s+SERVICE\s+PROBLEM\n/);
    expect(lenient.stdout).toContain('payments.json: inbound.allowedCallers');
    expect(lenient.stdout).toContain('is unreachable');
    expect(lenient.stdout).toContain('1 service(s) analyzed: 0 error(s), 1 warning(s)');
    expect((await runMeshctl(['analyze', dir, '--strict'])).code).toBe(1);
  });

  it('refuses a missing path and a wrong option with exit code 2', async () => {
    const missing = await runMeshctl(['analyze', '/nonexistent/specs']);
    expect({ code: missing.code, stderr: missing.stderr }).toEqual({ code: 2, stderr: 'meshctl: /nonexistent/specs: no such file or folder\n' });
    const unknown = await runMeshctl(['analyze', examples, '--bogus']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("Unknown option '--bogus'");
    const noArg = await runMeshctl(['analyze']);
    expect(noArg.code).toBe(2);
    expect(noArg.stderr).toContain('usage: meshctl analyze <dir|file>');
  });
});

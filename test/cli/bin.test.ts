import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../local/server';

const root = join(__dirname, '..', '..');

/** meshctlProcess runs the bin as `npx meshctl` does, in its own process, and reports its exit code and output. */
function meshctlProcess(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'cli', 'bin', 'meshctl.cjs'), ...args], { cwd: root }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code) : 0, stdout, stderr });
    });
  });
}

describe('the meshctl bin', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
  });
  afterAll(async () => cp.close());

  it('is declared in package.json, so `npx meshctl` runs it after `npm ci`', () => {
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).bin).toEqual({ meshctl: 'cli/bin/meshctl.cjs' });
  });

  it('exits with the command exit code: 0 for the example specs, 1 for a spec with a problem', async () => {
    expect(await meshctlProcess(['analyze', 'examples'])).toEqual({ code: 0, stdout: '3 service(s) analyzed: 0 error(s), 0 warning(s)\n', stderr: '' });
    const dir = mkdtempSync(join(tmpdir(), 'meshctl-bin-'));
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ name: 'Bad', inboundPort: 0, appPort: 8080, protocol: 'http' }));
    const bad = await meshctlProcess(['analyze', dir, '-o', 'json']);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ errors: 2 });
  });

  it('talks to a control plane given with --endpoint, and exits 2 on a usage mistake', async () => {
    const status = await meshctlProcess(['status', '--endpoint', cp.url, '--output', 'json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ services: [], nodes: [] });
    expect(await meshctlProcess(['frobnicate'])).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "frobnicate"') });
  });
});

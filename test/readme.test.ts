import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startLocalControlPlane, LocalControlPlane } from '../local/server';

const run = promisify(execFile);

/** The README's curl examples are the first thing a newcomer runs: they must work as written. */
function readmeCurlCommands(): string[] {
  const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
  const section = readme.split('## The local API')[1]?.split('\n## ')[0] ?? '';
  return section.split('\n').filter((line) => line.startsWith('curl '));
}

describe('the README', () => {
  let cp: LocalControlPlane;
  const scratch = mkdtempSync(join(tmpdir(), 'readme-'));
  beforeAll(async () => {
    // As `npm start` runs it: with the push tier, which the ADS bootstrap example points at.
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0 });
  });
  afterAll(async () => cp.close());

  it('has curl examples for the local API', () => {
    expect(readmeCurlCommands().length).toBeGreaterThanOrEqual(8);
  });

  it('curl examples succeed in order against a fresh local control plane', async () => {
    for (const command of readmeCurlCommands()) {
      const local = command.replaceAll('localhost:18000', `127.0.0.1:${cp.port}`);
      // `-o` of an example wins over ours; either way files land in a scratch folder, not the repo.
      const { stdout } = await run('bash', ['-c', `${local} -o /dev/null -w '%{http_code}'`], { cwd: scratch });
      // Pairing the status with its command makes a failure say which example broke.
      expect({ command, succeeded: Number(stdout) >= 200 && Number(stdout) < 300 }).toEqual({ command, succeeded: true });
    }
  });
});

import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { typeUrls } from '../../shared/envoy/resources';
import { status } from '@grpc/grpc-js';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';

const dynalite = useDynalite();
const root = join(__dirname, '..', '..');

describe('the push tier process (server/main.ts)', () => {
  it('serves ADS from the table and, on SIGTERM, ends its streams with OK and exits 0', async () => {
    const store = await dynalite.newStore();
    await declareService(store, { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' }, defaultRenderSettings);
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'server', 'main.ts')], {
      env: { ...process.env, TABLE_NAME: store.tableName, DYNAMODB_ENDPOINT: dynalite.db().endpoint, GRPC_PORT: '0', HOST: '127.0.0.1', XDS_AUTH_MODE: 'none' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let client: AdsTestClient | undefined;
    try {
      const port = await new Promise<number>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const m = /ADS on 127\.0\.0\.1:(\d+)/.exec(line);
          if (m) resolve(Number(m[1]));
        });
        void exited.then((code) => reject(new Error(`server/main.ts exited (${code}) before listening`)));
      });
      client = new AdsTestClient(port);
      client.send({ node: { id: 'payments-1', cluster: 'payments' }, type_url: typeUrls.clusters });
      expect((await client.next()).resources?.map((c) => c.name)).toEqual(['local_app']);
      child.kill('SIGTERM');
      expect((await client.ended()).code).toBe(status.OK);
      expect(await exited).toBe(0);
    } finally {
      client?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

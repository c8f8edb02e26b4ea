import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { declareService } from '../../shared/state/catalog';
import { defaultRenderSettings } from '../../shared/render/settings';
import { typeUrls } from '../../shared/envoy/resources';
import { envoyCodec } from '../../server/envoy-codec';
import { status } from '@grpc/grpc-js';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { request } from '../support/http-client';
import { orders, payments } from './fixtures';

const dynalite = useDynalite();
const root = join(__dirname, '..', '..');

describe('the push tier process (server/main.ts)', () => {
  it('serves ADS and the REST routes from the table, the same answer on both, and, on SIGTERM, ends its streams with OK and exits 0', async () => {
    const store = await dynalite.newStore();
    await declareService(store, payments, defaultRenderSettings);
    await declareService(store, orders, defaultRenderSettings);
    const child = spawn(process.execPath, [join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(root, 'server', 'main.ts')], {
      env: {
        ...process.env,
        TABLE_NAME: store.tableName,
        DYNAMODB_ENDPOINT: dynalite.db().endpoint,
        GRPC_PORT: '0',
        HTTP_PORT: '0',
        HOST: '127.0.0.1',
        XDS_AUTH_MODE: 'none',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let client: AdsTestClient | undefined;
    try {
      const ports = await new Promise<{ grpc: number; http: number }>((resolve, reject) => {
        createInterface({ input: child.stdout }).on('line', (line) => {
          const m = /ADS on 127\.0\.0\.1:(\d+), REST xDS and \/healthz on 127\.0\.0\.1:(\d+)/.exec(line);
          if (m) resolve({ grpc: Number(m[1]), http: Number(m[2]) });
        });
        void exited.then((code) => reject(new Error(`server/main.ts exited (${code}) before listening`)));
      });
      const node = { id: 'orders-a', cluster: 'orders', metadata: { 'mesh.xds': 'ads' } };
      client = new AdsTestClient(ports.grpc);
      client.send({ node, type_url: typeUrls.clusters });
      const pushed = await client.next();
      expect(pushed.resources?.map((c) => c.name)).toEqual(['local_app', 'payments']);

      const http = `http://127.0.0.1:${ports.http}`;
      const polled = await request(http, 'POST', '/v3/discovery:clusters', { node });
      expect(polled.status).toBe(200);
      const codec = envoyCodec();
      const bytes = (r: unknown) => Buffer.from(codec.encodeResponse({ ...(r as Record<string, unknown>), nonce: '' })).toString('base64');
      expect(bytes(polled.body)).toBe(bytes(pushed));
      expect(await request(http, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'serving', streams: 1 } });

      child.kill('SIGTERM');
      expect((await client.ended()).code).toBe(status.OK);
      expect(await exited).toBe(0);
    } finally {
      client?.close();
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

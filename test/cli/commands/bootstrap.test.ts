import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { threeServices } from '../../support/three-services';
import { runMeshctl } from '../../support/meshctl';

describe('meshctl bootstrap', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
    for (const spec of [threeServices.payments, threeServices.ledger, threeServices.orders]) {
      expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    }
  });
  afterAll(async () => cp.close());

  it('prints or writes the bootstrap the API generates for a node', async () => {
    const api = (await request(cp.url, 'GET', '/bootstrap/orders?node=orders-9&zone=us-east-1b')).body;
    const printed = await runMeshctl(['bootstrap', 'orders', '--node', 'orders-9', '--zone', 'us-east-1b', '--endpoint', cp.url]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(api);
    const file = join(mkdtempSync(join(tmpdir(), 'meshctl-bootstrap-')), 'envoy.json');
    const written = await runMeshctl(['bootstrap', 'orders', '--node', 'orders-9', '--zone', 'us-east-1b', '--out', file, '--endpoint', cp.url]);
    expect(written).toMatchObject({ code: 0, stdout: '', stderr: `wrote the bootstrap of orders/orders-9 to ${file}; run: envoy -c ${file}\n` });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(api);
  });

  it('refuses the grpc tier, which does not exist yet, and a missing --node', async () => {
    expect(await runMeshctl(['bootstrap', 'orders', '--node', 'orders-9', '--tier', 'grpc', '--endpoint', cp.url])).toMatchObject({
      code: 2,
      stderr: 'meshctl: --tier grpc: ADS bootstraps are not generated yet (README, The push tier, shows one to write by hand); use --tier rest\n',
    });
    expect((await runMeshctl(['bootstrap', 'orders', '--endpoint', cp.url])).stderr).toContain('--node is required');
  });
});

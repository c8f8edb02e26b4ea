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
    cp = await startLocalControlPlane({ port: 0, grpcPort: 0 });
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

  it('prints the ADS bootstrap of the push tier with --tier grpc, as the API generates it', async () => {
    const api = (await request(cp.url, 'GET', '/bootstrap/orders?node=orders-9&tier=grpc')).body;
    expect(JSON.stringify(api)).toContain(`"port_value":${cp.grpc!.port}`);
    const printed = await runMeshctl(['bootstrap', 'orders', '--node', 'orders-9', '--tier', 'grpc', '--endpoint', cp.url]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toEqual(api);
    expect(JSON.parse(printed.stdout)).toMatchObject({ dynamic_resources: { ads_config: { api_type: 'GRPC' } }, node: { metadata: { 'mesh.xds': 'ads' } } });
  });

  it('refuses an unknown tier and a missing --node', async () => {
    expect(await runMeshctl(['bootstrap', 'orders', '--node', 'orders-9', '--tier', 'udp', '--endpoint', cp.url])).toMatchObject({
      code: 2,
      stderr: 'meshctl: --tier must be rest or grpc, got "udp"\n',
    });
    expect((await runMeshctl(['bootstrap', 'orders', '--endpoint', cp.url])).stderr).toContain('--node is required');
  });
});

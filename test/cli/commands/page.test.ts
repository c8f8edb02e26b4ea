import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { MeshClient } from '../../../cli/client';
import { startPageProxy, PageProxy } from '../../../cli/commands/page';
import { CliIo } from '../../../cli/io';
import { request } from '../../support/http-client';
import { threeServices } from '../../support/three-services';
import { runMeshctl } from '../../support/meshctl';
import { fixedCredentials, verifyingServer } from '../../support/sigv4-endpoint';

const io = (credentials?: CliIo['credentials']): CliIo => ({ stdout: () => {}, stderr: () => {}, now: () => new Date(), env: {}, interactive: false, ...(credentials ? { credentials } : {}) });

describe('meshctl page: the mesh page through a local proxy', () => {
  let cp: LocalControlPlane;
  let proxy: PageProxy;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
    expect((await request(cp.url, 'PUT', '/services/payments', threeServices.payments)).status).toBe(201);
    proxy = await startPageProxy(new MeshClient({ endpoint: cp.url }, io()), { port: 0 });
  });
  afterAll(async () => {
    await proxy.close();
    await cp.close();
  });

  it('forwards the page and the routes it reads, answering as the control plane does', async () => {
    const page = await fetch(`${proxy.url}/mesh`);
    expect({ status: page.status, type: page.headers.get('content-type') }).toEqual({ status: 200, type: 'text/html; charset=utf-8' });
    expect(await page.text()).toBe(await (await fetch(`${cp.url}/mesh`)).text());
    for (const path of ['/services', '/nodes', '/endpoints?service=payments']) {
      expect({ path, body: await (await fetch(proxy.url + path)).json() }).toEqual({ path, body: (await request(cp.url, 'GET', path)).body });
    }
    expect((await fetch(`${proxy.url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/mesh');
  });

  it('is read-only: it refuses writes and routes the page does not use', async () => {
    expect((await fetch(`${proxy.url}/services`, { method: 'POST', body: '{}' })).status).toBe(405);
    expect((await fetch(`${proxy.url}/v3/discovery:clusters`, { method: 'GET' })).status).toBe(404);
    expect((await fetch(`${proxy.url}/bootstrap/payments?node=x`)).status).toBe(404);
  });

  it('signs what it forwards to an endpoint with IAM auth', async () => {
    const endpoint = await verifyingServer('eu-west-1');
    const signing = await startPageProxy(new MeshClient({ endpoint: endpoint.url, sign: true, region: 'eu-west-1' }, io(fixedCredentials)), { port: 0 });
    try {
      const res = await fetch(`${signing.url}/nodes`);
      expect(res.status).toBe(200);
      expect(endpoint.seen).toEqual(['GET /nodes verified token=session-token-example']);
    } finally {
      await signing.close();
      await new Promise<void>((resolve) => endpoint.server.close(() => resolve()));
    }
  });

  it('has --help and refuses a bad port', async () => {
    expect((await runMeshctl(['page', '--help'])).stdout).toMatch(/^usage: meshctl page \[--port 18080\]/);
    expect(await runMeshctl(['page', '--port', 'eighty'])).toMatchObject({ code: 2, stderr: 'meshctl: --port must be a port number, got "eighty"\n' });
  });
});

import { startLocalControlPlane, LocalControlPlane } from '../../../local/server';
import { request } from '../../support/http-client';
import { ecsTaskEvent } from '../../support/ecs-events';
import { threeServices } from '../../support/three-services';

describe('GET /endpoints and the mesh page routes', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
    for (const spec of [threeServices.payments, threeServices.ledger]) expect((await request(cp.url, 'PUT', `/services/${spec.name}`, spec)).status).toBe(201);
    const events = [
      ecsTaskEvent({ ecsService: 'payments', taskId: 'b', ip: '10.0.1.2', zone: 'us-east-1a' }),
      ecsTaskEvent({ ecsService: 'payments', taskId: 'a', ip: '10.0.1.1', zone: 'us-east-1a', healthStatus: 'UNHEALTHY' }),
      ecsTaskEvent({ ecsService: 'payments', taskId: 'c', ip: '10.0.2.1', zone: 'us-east-1b' }),
      ecsTaskEvent({ ecsService: 'payments', taskId: 'd', ip: '10.0.2.2', zone: 'us-east-1b', lastStatus: 'STOPPED', desiredStatus: 'STOPPED' }),
    ];
    expect((await request(cp.url, 'POST', '/events', events)).status).toBe(200);
  });
  afterAll(async () => cp.close());

  it('lists each service live endpoints by zone with counts by health, leaving stopped ones out', async () => {
    const answer = await request(cp.url, 'GET', '/endpoints?service=payments');
    expect(answer.status).toBe(200);
    const [payments] = (answer.body as { services: { service: string; zones: { zone: string; counts: unknown; endpoints: { address: string; health: string }[] }[] }[] }).services;
    expect(payments!.zones.map((z) => ({ zone: z.zone, counts: z.counts, endpoints: z.endpoints.map((e) => `${e.address}:${e.health}`) }))).toEqual([
      { zone: 'us-east-1a', counts: { healthy: 1, unhealthy: 1, draining: 0 }, endpoints: expect.arrayContaining(['10.0.1.1:unhealthy', '10.0.1.2:healthy']) },
      { zone: 'us-east-1b', counts: { healthy: 1, unhealthy: 0, draining: 0 }, endpoints: ['10.0.2.1:healthy'] },
    ]);
    const all = (await request(cp.url, 'GET', '/endpoints')).body as { services: { service: string; zones: unknown[] }[] };
    expect(all.services.map((s) => [s.service, s.zones.length])).toEqual([
      ['ledger', 0],
      ['payments', 2],
    ]);
  });

  it('answers an unknown service with 404 and a write with 405', async () => {
    expect(await request(cp.url, 'GET', '/endpoints?service=nope')).toMatchObject({ status: 404, body: { error: 'service "nope" is not declared' } });
    expect((await request(cp.url, 'POST', '/endpoints', {})).status).toBe(405);
  });

  it.each([
    ['/mesh', 'text/html; charset=utf-8'],
    ['/mesh/app.js', 'text/javascript; charset=utf-8'],
    ['/mesh/style.css', 'text/css; charset=utf-8'],
  ])('serves %s as %s', async (path, type) => {
    const res = await fetch(cp.url + path);
    expect({ status: res.status, type: res.headers.get('content-type') }).toEqual({ status: 200, type });
    expect((await res.text()).length).toBeGreaterThan(500);
  });

  it('answers other paths under /mesh with 404 and writes with 405, in words', async () => {
    const missing = await fetch(`${cp.url}/mesh/secret.txt`);
    expect({ status: missing.status, text: await missing.text() }).toEqual({ status: 404, text: 'no mesh page asset at /mesh/secret.txt; the page is at /mesh' });
    expect((await fetch(`${cp.url}/mesh`, { method: 'POST', body: 'x' })).status).toBe(405);
  });
});

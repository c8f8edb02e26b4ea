import { typeUrls } from '../../shared/envoy/resources';
import { envoyCodec } from '../../server/envoy-codec';
import { RestServer, startRestServer } from '../../server/rest-server';
import { discoveryBodyLimitBytes } from '../../shared/api/discovery';
import { useDynalite } from '../support/dynamo';
import { AdsTestClient } from '../support/ads-client';
import { request } from '../support/http-client';
import { AdsPlane, adsPlane } from './fixtures';

const dynalite = useDynalite();
const codec = envoyCodec();
const node = { id: 'orders-a', cluster: 'orders', metadata: { 'mesh.xds': 'ads' } };

/** The push tier's REST routes: the REST adapter over the streams' own deps, and a health check. */
describe('the REST routes of the push tier (server/rest-server.ts)', () => {
  let plane: AdsPlane;
  let rest: RestServer;
  let url: string;
  let client: AdsTestClient | undefined;
  beforeEach(async () => {
    plane = await adsPlane(await dynalite.newStore());
    rest = await startRestServer({ cache: plane.cache, tracker: plane.tracker }, '127.0.0.1', 0, { healthDetails: () => ({ streams: plane.server.streams.size }) });
    url = `http://127.0.0.1:${rest.port}`;
  });
  afterEach(async () => {
    client?.close();
    client = undefined;
    await rest.close();
    await plane.server.close();
  });

  it.each(['clusters', 'listeners'] as const)('answer a %s poll as the stream answers the same node, recorded by the streams\' node tracker', async (type) => {
    const polled = await request(url, 'POST', `/v3/discovery:${type}`, { node });
    expect(polled.status).toBe(200);
    client = new AdsTestClient(plane.server.port);
    client.send({ node, type_url: typeUrls[type] });
    const pushed = await client.next();
    const bytes = (r: unknown) => Buffer.from(codec.encodeResponse({ ...(r as Record<string, unknown>), nonce: '' })).toString('base64');
    expect(bytes(pushed)).toBe(bytes(polled.body));
    expect(plane.tracker.status('orders-a')?.subscriptions[type]).toBeDefined();
  });

  it('answers 304 to a poll that has the version, as the REST tier does', async () => {
    const first = (await request(url, 'POST', '/v3/discovery:clusters', { node })).body as { version_info: string };
    const again = await request(url, 'POST', '/v3/discovery:clusters', { node, version_info: first.version_info });
    expect(again.status).toBe(304);
  });

  it('reports healthy while serving, with its streams, and 503 once draining', async () => {
    client = new AdsTestClient(plane.server.port);
    client.send({ node, type_url: typeUrls.clusters });
    await client.next();
    expect(await request(url, 'GET', '/healthz')).toMatchObject({ status: 200, body: { status: 'serving', streams: 1 } });
    rest.drain();
    expect(await request(url, 'GET', '/healthz')).toMatchObject({ status: 503, body: { status: 'draining' } });
  });

  it.each([
    ['GET', '/v3/discovery:clusters', undefined, 405],
    ['POST', '/v3/discovery:nothing', JSON.stringify({ node }), 404],
    ['POST', '/services/orders', '{}', 404],
    ['POST', '/v3/discovery:clusters', 'not json', 400],
    ['POST', '/v3/discovery:clusters', 'x'.repeat(discoveryBodyLimitBytes + 1), 413],
    ['POST', '/healthz', '{}', 405],
  ])('answers %s %s with a JSON error (%#)', async (method, path, body, status) => {
    const answer = await request(url, method, path, body);
    expect(answer.status).toBe(status);
    expect(answer.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
  });
});

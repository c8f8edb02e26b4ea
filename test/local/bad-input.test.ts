import fc from 'fast-check';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalControlPlane, LocalControlPlane, localBodyLimitBytes } from '../../local/server';
import { ecsTaskEvent } from '../support/ecs-events';
import { request } from '../support/http-client';

/**
 * Every route answers malformed input with a 4xx whose JSON body names the problem, and writes
 * nothing: the whole table is compared before and after.
 */

const payments = { name: 'payments', inboundPort: 15000, appPort: 8080, protocol: 'http' };
const orders = { name: 'orders', inboundPort: 15001, appPort: 8081, protocol: 'grpc', dependencies: [{ service: 'payments', localPort: 9001 }] };

const notJson = fc.string({ minLength: 1, maxLength: 200 }).filter((s) => {
  try {
    JSON.parse(s);
    return false;
  } catch {
    return true;
  }
});

/** A value of the wrong type for any field. */
const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: true }).filter((n) => !Number.isInteger(n)),
  fc.integer({ min: -100000, max: -1 }),
  fc.integer({ min: 65536, max: 10_000_000 }),
  fc.string({ maxLength: 20 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.integer(), { maxKeys: 2 }),
);

/** A spec with one field broken, one unknown field, or one required field missing. */
const brokenSpec = fc.oneof(
  fc.record({ key: fc.constantFrom('name', 'inboundPort', 'appPort', 'protocol', 'dependencies'), value: wrongValue }).map(
    ({ key, value }) => ({ ...orders, [key]: value }),
  ).filter((spec) => !(Array.isArray(spec.dependencies) && spec.dependencies.length === 0)),
  fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !(k in orders) && k !== '__proto__').map((k) => ({ ...orders, [k]: 1 })),
  fc.constantFrom('name', 'inboundPort', 'appPort', 'protocol').map((k) => {
    const copy: Record<string, unknown> = { ...orders };
    delete copy[k];
    return copy;
  }),
  fc.record({ key: fc.constantFrom('service', 'localPort'), value: wrongValue }).map(({ key, value }) => ({
    ...orders,
    dependencies: [{ service: 'payments', localPort: 9001, [key]: value }],
  })),
  fc.constant({ ...orders, dependencies: [{ service: 'nobody', localPort: 9001 }] }),
  fc.constant({ ...orders, appPort: orders.inboundPort }),
);

/** An ECS task event with one required part broken. */
const brokenEvent = fc
  .record({
    path: fc.constantFrom('version', 'id', 'time', 'detail', 'detail.taskArn', 'detail.version', 'detail.lastStatus', 'detail.clusterArn'),
    value: wrongValue,
  })
  // Any non-empty string is a valid id, ARN or status: those fields are broken by other types.
  .filter(({ path, value }) => !(['id', 'detail.taskArn', 'detail.clusterArn', 'detail.lastStatus'].includes(path) && typeof value === 'string' && value !== ''))
  // The envelope's version is "0"; a task's version is any non-negative integer.
  .filter(({ path, value }) => !(path === 'version' && value === '0'))
  .filter(({ path, value }) => !(path === 'detail.version' && Number.isInteger(value) && (value as number) >= 0))
  .map(({ path, value }) => {
    const event = ecsTaskEvent({ ecsService: 'payments', taskId: 'broken' });
    const [head, tail] = path.split('.') as [string, string | undefined];
    if (tail) (event.detail as Record<string, unknown>)[tail] = value;
    else event[head] = value;
    return event;
  });

const anyJson = fc.jsonValue({ maxDepth: 3 });

/**
 * runs is the number of cases a property tries: its default here, or FUZZ_RUNS for a longer
 * soak (e.g. `FUZZ_RUNS=1000 npx jest test/local/bad-input`).
 */
const runs = (numRuns: number): fc.Parameters<unknown> => ({ numRuns: Number(process.env.FUZZ_RUNS) || numRuns });

describe('bad input to the local control plane', () => {
  let cp: LocalControlPlane;
  let before: string;

  const tableState = async () => {
    const out = await cp.runtime.doc.send(new ScanCommand({ TableName: cp.runtime.config.tableName, ConsistentRead: true }));
    return JSON.stringify(
      (out.Items ?? []).sort((a, b) => `${a.pk}${a.sk}`.localeCompare(`${b.pk}${b.sk}`)),
    );
  };

  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
    await request(cp.url, 'PUT', '/services/payments', payments);
    await request(cp.url, 'PUT', '/services/orders', orders);
    before = await tableState();
  });
  afterAll(async () => cp.close());
  afterEach(async () => {
    expect(await tableState()).toBe(before);
  });

  const expectClientError = (answer: { status: number; body: unknown }) => {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    expect(answer.body).toEqual(expect.objectContaining({ error: expect.any(String) }));
  };

  const routes: [string, string][] = [
    ['PUT', '/services/orders'],
    ['POST', '/events'],
    ['POST', '/v3/discovery:clusters'],
    ['POST', '/v3/discovery:endpoints'],
    ['POST', '/v3/discovery:listeners'],
    ['POST', '/v3/discovery:routes'],
    ['POST', '/v3/discovery:secrets'],
  ];

  it.each(routes)('%s %s answers bodies that are not JSON with 400', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(notJson, async (body) => {
        const answer = await request(cp.url, method, path, body);
        expectClientError(answer);
        expect(answer.status).toBe(400);
      }),
      runs(60),
    );
  });

  it.each(routes)('%s %s answers arbitrary JSON of the wrong shape with a 4xx', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(anyJson, async (body) => {
        expectClientError(await request(cp.url, method, path, JSON.stringify(body)));
      }),
      runs(80),
    );
  });

  it('PUT /services/{name} rejects broken specs with the field that is wrong', async () => {
    await fc.assert(
      fc.asyncProperty(brokenSpec, async (spec) => {
        const answer = await request(cp.url, 'PUT', '/services/orders', spec);
        expectClientError(answer);
        expect(answer.status).toBe(400);
        expect(answer.body).toEqual(expect.objectContaining({ problems: expect.arrayContaining([expect.objectContaining({ path: expect.any(String) })]) }));
      }),
      runs(200),
    );
  });

  it('POST /events rejects broken events, alone or in a batch with a good one, naming the event', async () => {
    await fc.assert(
      fc.asyncProperty(brokenEvent, fc.boolean(), async (event, batched) => {
        const good = ecsTaskEvent({ ecsService: 'payments', taskId: 'good', ip: '10.0.0.9' });
        const answer = await request(cp.url, 'POST', '/events', batched ? [good, event] : event);
        expectClientError(answer);
        expect(answer.status).toBe(400);
      }),
      runs(150),
    );
  });

  it('discovery rejects a type_url that does not match the path, a missing node and an unknown service', async () => {
    const cases: [unknown, number, string][] = [
      [{ node: { id: 'n', cluster: 'orders' }, type_url: 'type.googleapis.com/envoy.config.listener.v3.Listener' }, 400, 'does not match'],
      [{ type_url: 'type.googleapis.com/envoy.config.cluster.v3.Cluster' }, 400, 'no node'],
      [{ node: { id: 'n' } }, 400, 'node.cluster'],
      [{ node: { id: 'n', cluster: 'nobody' } }, 404, 'not declared'],
      [{ node: { id: 'n', cluster: 'orders' }, resource_names: 'payments' }, 400, 'resource_names'],
    ];
    for (const [body, status, message] of cases) {
      const answer = await request(cp.url, 'POST', '/v3/discovery:clusters', body);
      expect({ status: answer.status, text: answer.text }).toEqual({ status, text: expect.stringContaining(message) });
    }
  });

  it('unknown paths and methods get a 404 or 405 naming them', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH'),
        fc.webPath().filter((p) => !/^\/(services|nodes|events|endpoints|config|mesh|local\/instances|v3\/discovery:(listeners|routes|clusters|endpoints|secrets))(\/|$)/.test(p)),
        async (method, path) => {
          const answer = await request(cp.url, method, path.startsWith('/') ? path : `/${path}`);
          expectClientError(answer);
          expect([400, 404, 405]).toContain(answer.status);
        },
      ),
      runs(100),
    );
    expectClientError(await request(cp.url, 'PATCH', '/services/orders', orders));
    expectClientError(await request(cp.url, 'GET', '/events'));
    expectClientError(await request(cp.url, 'GET', '/v3/discovery:clusters'));
    expectClientError(await request(cp.url, 'DELETE', '/services/nobody'));
    expectClientError(await request(cp.url, 'PUT', '/services/Not_A_Label', orders));
  });

  it('oversized bodies are refused with 413 before they are parsed', async () => {
    const huge = JSON.stringify({ ...orders, padding: 'x'.repeat(localBodyLimitBytes) });
    for (const [method, path] of routes) {
      const answer = await request(cp.url, method, path, huge);
      expectClientError(answer);
      expect(answer.status).toBe(413);
    }
  });
});

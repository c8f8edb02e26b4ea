import { readFile } from 'node:fs/promises';
import { startLocalControlPlane, LocalControlPlane } from '../../local/server';
import { keepAliveMs as localKeepAliveMs } from '../../server/http-io';
import { bootstrapDefaults } from '../../shared/bootstrap/envoy-bootstrap';
import { request } from '../support/http-client';

/**
 * A client reuses its idle keep-alive connection after the process was stalled (a busy
 * machine, a long GC): the server must not have closed that connection under it. This is the
 * fuzz test's `read ECONNRESET`, forced instead of waited for: the client's pool still holds
 * the connection (its expiry timer had no chance to run), it writes the next request on it,
 * and a server whose idle timeout had already passed destroys the socket with the request
 * unread, so the kernel answers with a reset. Envoy's REST client reuses its connections the
 * same way, every refresh delay.
 */
describe('keep-alive connections of the local server', () => {
  let cp: LocalControlPlane;
  beforeAll(async () => {
    cp = await startLocalControlPlane({ port: 0 });
  });
  afterAll(async () => cp.close());

  /** stall blocks the event loop: no timer of the client's or the server's runs meanwhile. */
  const stall = (ms: number) => {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      // a process that gets no CPU
    }
  };

  it("outlive a stall longer than Node's default idle timeout, so a reused connection is not reset", async () => {
    expect((await request(cp.url, 'GET', '/nodes')).status).toBe(200);
    // Continue from an I/O callback, as the test after a table scan does, then stall past
    // Node's default keep-alive (5 s + its 1 s buffer) before reusing the pooled connection.
    await readFile(__filename);
    stall(6_500);
    const answer = await request(cp.url, 'PUT', '/');
    expect({ status: answer.status, error: (answer.body as { error?: string }).error }).toEqual({ status: 404, error: expect.stringContaining('no route for PUT /') });
  });

  it('announce an idle timeout longer than the one Envoy closes its xDS connections at, so the poller closes first', async () => {
    const res = await fetch(`${cp.url}/nodes`);
    await res.text();
    const envoyIdleMs = Number(bootstrapDefaults.xdsIdleTimeout.replace(/s$/, '')) * 1000;
    expect({ keepAlive: res.headers.get('keep-alive'), outlastsEnvoy: localKeepAliveMs > envoyIdleMs }).toEqual({
      keepAlive: `timeout=${localKeepAliveMs / 1000}`,
      outlastsEnvoy: true,
    });
  });
});

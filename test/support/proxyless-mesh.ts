import { LocalControlPlane } from '../../local/server';
import { request } from './http-client';
import { ecsTaskEvent } from './ecs-events';
import { CallBatch, WhoServer, WhoServerOptions, XdsClientProcess, startWhoServer } from './xds-client';

/**
 * proxylessMesh is what the end-to-end tests of proxyless gRPC clients share over one local
 * control plane: real gRPC servers registered by ECS task events (the task definition revision
 * becomes the endpoint's `revision` label), real xDS clients of `orders` in their own processes,
 * gRPC specs declared over the API, and `close` for everything they started.
 */
export function proxylessMesh(cp: () => LocalControlPlane) {
  const servers: WhoServer[] = [];
  const clients: XdsClientProcess[] = [];
  return {
    clients,
    async server(id: string, options?: WhoServerOptions): Promise<WhoServer> {
      const s = await startWhoServer(id, 0, options);
      servers.push(s);
      return s;
    },
    client(nodeId: string, target: string): XdsClientProcess {
      const c = new XdsClientProcess(cp().grpc!.port, { id: nodeId, cluster: 'orders' }, target);
      clients.push(c);
      return c;
    },
    task: (ecsService: string, s: WhoServer, revision = 1) =>
      ecsTaskEvent({ ecsService, revision, bridge: { containerInstanceId: 'local', bindings: [{ containerPort: 15000, hostPort: s.port, bindIP: '127.0.0.1' }] } }),
    /** declare PUTs a gRPC spec; the answer is the status and, when refused, the problems. */
    async declare(spec: Record<string, unknown>): Promise<{ status: number; body: unknown }> {
      const res = await request(cp().url, 'PUT', `/services/${String(spec.name)}`, { inboundPort: 15000, appPort: 8080, protocol: 'grpc', ...spec });
      return { status: res.status, body: res.body };
    },
    /** ready makes single calls until one succeeds: each waits for the channel's config (5 s); ten bound the start. */
    async ready(c: XdsClientProcess): Promise<CallBatch | undefined> {
      let batch: CallBatch | undefined;
      for (let i = 0; i < 10 && !(batch && batch.failed === 0); i++) batch = await c.calls(1);
      return batch;
    },
    async close(): Promise<void> {
      for (const c of clients) await c.close();
      for (const s of servers) s.close();
    },
  };
}

import { createServer, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMeshPagePath } from '../../shared/api/mesh-page';
import { MeshClient } from '../client';
import { Command } from '../command';
import { CliError } from '../io';

/** The read-only routes the mesh page uses: the only ones the proxy forwards. */
const pageRoutes = new Set(['/services', '/nodes', '/endpoints']);

export interface PageProxy {
  readonly url: string;
  close(): Promise<void>;
}

/**
 * startPageProxy serves the mesh page of a control plane on this machine: each GET of the page
 * or of the routes it reads is forwarded through the client, which signs it with SigV4 for a
 * function URL with IAM auth (a browser cannot). Read-only: other methods and paths are refused.
 */
export async function startPageProxy(client: MeshClient, options: { port: number; host?: string }): Promise<PageProxy> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/') {
      res.writeHead(302, { location: '/mesh' }).end();
      return;
    }
    if (!isMeshPagePath(url.pathname) && !pageRoutes.has(url.pathname)) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end(`the page proxy forwards only /mesh, ${[...pageRoutes].join(', ')}`);
      return;
    }
    if (method !== 'GET') {
      res.writeHead(405, { 'content-type': 'text/plain; charset=utf-8', allow: 'GET' }).end('the page proxy is read-only: GET only');
      return;
    }
    client.fetchRaw('GET', url.pathname + url.search).then(
      (answer) => {
        res.writeHead(answer.status, { ...(answer.contentType ? { 'content-type': answer.contentType } : {}), 'cache-control': 'no-cache' }).end(answer.text);
      },
      (err: Error) => {
        res.writeHead(502, { 'content-type': 'application/json' }).end(JSON.stringify({ error: err.message }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export const pageCommand: Command = {
  name: 'page',
  summary: "open the mesh page of a deployed control plane through a local signing proxy",
  usage: 'meshctl page [--port 18080]',
  description: `Serves the mesh page of --endpoint on this machine, forwarding the page and the read-only
routes it polls (/services, /nodes, /endpoints) and signing each request with SigV4 when the
endpoint is a function URL with IAM auth, which a browser cannot do. Runs until Ctrl-C.
The local control plane serves the page itself at http://127.0.0.1:18000/mesh.`,
  optionsHelp: '  --port PORT         where the proxy listens on 127.0.0.1 (default 18080; 0 picks a free one)',
  options: { port: { type: 'string' } },
  minArgs: 0,
  maxArgs: 0,
  async run(ctx) {
    const client = ctx.client();
    const port = portFrom(ctx.option('port') ?? '18080');
    const proxy = await startPageProxy(client, { port }).catch((err: NodeJS.ErrnoException) => {
      throw new CliError(`cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`);
    });
    ctx.io.stderr(`The mesh page of ${client.endpoint.origin}${client.signs ? ' (requests signed with SigV4)' : ''}: ${proxy.url}/mesh\nCtrl-C stops it.\n`);
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await proxy.close();
    return 0;
  },
};

/** portFrom reads --port: a whole number from 0 (any free port) to 65535. */
function portFrom(raw: string): number {
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be a port number, got "${raw}"`);
  return port;
}

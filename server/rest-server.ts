import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { discoveryBodyLimitBytes, discoveryPathPrefix, handleDiscovery } from '../shared/api/discovery';
import { HttpError, HttpRequest, HttpResponse, errorResponse, jsonResponse } from '../shared/api/http';
import { DiscoveryDeps, PollSummary } from '../shared/xds/discovery';
import { Principal } from '../shared/xds/authorization';
import { httpRequestOf, keepAliveMs, readBody, requestUrl, send } from './http-io';

/** healthPath answers load-balancer health checks. */
export const healthPath = '/healthz';

export interface RestServerOptions {
  /** Who the caller is, from the request (none on the push tier, which runs with XDS_AUTH_MODE=none). */
  readonly principalOf?: (req: HttpRequest) => Principal | undefined;
  /** What the health check reports beside its status (e.g. the number of streams). */
  readonly healthDetails?: () => Record<string, unknown>;
  readonly onPoll?: (poll: PollSummary) => void;
  readonly onError?: (message: string) => void;
}

export interface RestServer {
  readonly port: number;
  /** drain makes the health check fail (503), so a load balancer stops sending before the process goes. */
  drain(): void;
  /** close stops listening and ends idle connections; polls still in flight get `graceMs` to finish. */
  close(graceMs?: number): Promise<void>;
}

/**
 * startRestServer serves the REST xDS routes (`POST /v3/discovery:<type>`) beside the push
 * tier's ADS, through the same REST adapter as the xDS function (shared/api/discovery.ts) and
 * the same deps as the streams (cache, node tracker, sealer), so a REST poll and a stream of the
 * same node get the same answer and are tracked as one node. `GET /healthz` answers 200 while
 * serving and 503 once draining; it reads nothing, so a table outage (during which Envoys keep
 * their config) never takes every task out of its load balancer.
 */
export async function startRestServer(deps: DiscoveryDeps, host: string, port: number, options: RestServerOptions = {}): Promise<RestServer> {
  let draining = false;
  const route = async (req: HttpRequest): Promise<HttpResponse> => {
    if (req.path === healthPath) {
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, `${req.method} is not allowed on ${healthPath}; use GET`);
      return jsonResponse(draining ? 503 : 200, { status: draining ? 'draining' : 'serving', ...options.healthDetails?.() });
    }
    if (!req.path.startsWith(discoveryPathPrefix)) throw new HttpError(404, `no route for ${req.method} ${req.path}; this server answers ${discoveryPathPrefix}<type> and ${healthPath}`);
    const answer = await handleDiscovery(deps, req, options.principalOf?.(req));
    if (answer.poll) options.onPoll?.(answer.poll);
    return answer;
  };
  const server = createServer({ keepAliveTimeout: keepAliveMs }, (req, res) => {
    (async () => {
      const url = requestUrl(req.url);
      const body = await readBody(req, discoveryBodyLimitBytes);
      send(res, await route(httpRequestOf(req, url, body)));
    })().catch((err: unknown) => {
      if (!(err instanceof HttpError)) options.onError?.(`REST request failed: ${(err as Error).message}`);
      send(res, errorResponse(err));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    drain: () => {
      draining = true;
    },
    close: (graceMs = 0) =>
      new Promise<void>((resolve) => {
        draining = true;
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}

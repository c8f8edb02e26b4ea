import { IncomingMessage, ServerResponse } from 'node:http';
import { HttpError, HttpRequest, HttpResponse } from '../shared/api/http';

/**
 * keepAliveMs is how long an xDS HTTP server (the local runner, the push process's REST
 * routes) keeps an idle keep-alive connection open. HTTP/1.1 has no way to tell a client "I am closing this": when the server closes an idle connection
 * just as the client reuses it, the request lands on a dead socket and the client reads a
 * reset (ECONNRESET). So the side that knows when it will speak next, the client, must be
 * the one that closes idle connections. Node's default (5 s, plus a 1 s buffer) is shorter
 * than a REST xDS refresh delay (5 s by default) and than a stall of a busy machine, which is
 * how the fuzz test got `read ECONNRESET`. Clients close first: Envoy's bootstrap sets the xDS
 * cluster's idle timeout below this (`xdsIdleTimeout`), and fetch (undici) closes a second
 * before the `Keep-Alive: timeout=` the server announces.
 */
export const keepAliveMs = 120_000;

/**
 * The node:http edge shared by the local runner (local/server.ts) and the push tier's REST
 * routes (server/rest-server.ts): read a request into the core's transport-free shape, write
 * its answer back. Everything past these functions is the same code in Lambda.
 */

/** requestUrl parses the request target as a path on this server, whatever its form ('//x', absolute). */
export function requestUrl(target: string | undefined): URL {
  try {
    const url = new URL(`http://local${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
    if (url.host !== 'local') throw new Error('absolute-form target');
    return url;
  } catch {
    throw new HttpError(400, `request target "${String(target).slice(0, 200)}" is not a path`);
  }
}

/** readBody reads a request body as UTF-8, refusing (413) one over `limit` bytes before or while it arrives. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new HttpError(413, `request body is ${declared} bytes; the limit is ${limit}`));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new HttpError(413, `request body exceeds the limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** httpRequestOf is a node:http request in the core's shape (header names are lower-case in both). */
export function httpRequestOf(req: IncomingMessage, url: URL, body: string): HttpRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  return { method: (req.method ?? 'GET').toUpperCase(), path: url.pathname, query: Object.fromEntries(url.searchParams), headers, body };
}

/** send writes the core's answer: JSON when it has a body (never for 304 and 204). */
export function send(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent) return;
  const hasBody = response.body !== undefined && response.status !== 304 && response.status !== 204;
  res.writeHead(response.status, { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...response.headers });
  res.end(hasBody ? JSON.stringify(response.body) : undefined);
}

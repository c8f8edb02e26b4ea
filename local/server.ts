import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyStructuredResultV2, EventBridgeEvent } from 'aws-lambda';
import { HttpError, errorResponse, parseJsonBody, HttpResponse } from '../shared/api/http';
import { LifecycleEventError } from '../shared/lifecycle/envelope';
import { validateLifecycleEvent } from '../shared/lifecycle/handle';
import { FunctionConfig } from '../functions/lib/config';
import { createRuntime, Runtime } from '../functions/lib/runtime';
import { createXdsHandler } from '../functions/xds/handler';
import { createAdminHandler } from '../functions/admin/handler';
import { createLifecycleHandler } from '../functions/lifecycle/handler';
import { defaultRenderSettings } from '../shared/render/settings';
import { startEmbeddedDynamoDb } from './embedded-dynamodb';
import { randomBytes } from 'node:crypto';
import { AesGcmSealer } from '../shared/secrets/sealer';
import { createLocalCaSigner } from '../shared/pki/signer';
import { rotationPolicy } from '../shared/pki/rotation';
import { CertificateIssuer, loadCertificateAuthority, rotateCertificates } from '../shared/state/certificates';
import { ServiceTokens } from '../shared/xds/authorization';
import { functionUrlEvent, lambdaContext } from './lambda-invoke';
import { isMeshPagePath } from '../shared/api/mesh-page';

/** The largest body the local server reads: a batch of events (EventBridge caps one at 256 KB). */
export const localBodyLimitBytes = 1024 * 1024;

export interface LocalControlPlaneOptions {
  readonly port?: number;
  readonly host?: string;
  readonly dataDir?: string;
  readonly tableName?: string;
  /** Overrides for the functions' configuration (cache TTL, render settings). */
  readonly config?: Partial<FunctionConfig>;
  /**
   * How xDS callers authenticate. `token`: each poll carries `Authorization: Bearer <token>` of
   * its service (`POST /services/{name}/token`), bound as IAM roles are in AWS. `none` (default):
   * any caller, for a developer's own Envoy.
   */
  readonly auth?: 'none' | 'token';
}

export interface LocalControlPlane {
  readonly url: string;
  readonly port: number;
  readonly runtime: Runtime;
  /** The xDS handler's per-container state (cache, node tracker), as a Lambda container would hold it. */
  readonly xds: ReturnType<typeof createXdsHandler>;
  /** The local CA and its issuer: certificates for every declared service, rotated on a timer. */
  readonly certificates: CertificateIssuer;
  readonly tokens: ServiceTokens;
  close(): Promise<void>;
}

/**
 * startLocalControlPlane runs the whole control plane in one process: embedded DynamoDB,
 * and one HTTP server that hands each request to the Lambda handler AWS would invoke for it.
 */
export async function startLocalControlPlane(options: LocalControlPlaneOptions = {}): Promise<LocalControlPlane> {
  const tableName = options.tableName ?? 'envoy-control-plane';
  const db = await startEmbeddedDynamoDb({ dataDir: options.dataDir, tableName });
  const config: FunctionConfig = {
    tableName,
    region: 'local',
    render: defaultRenderSettings,
    snapshotCacheTtlMs: 1000,
    xdsAuthMode: options.auth ?? 'none',
    certificateLifetimeSeconds: 24 * 3600,
    nodeStatusMinWriteGapMs: 1000,
    nodeStatusLivenessMs: 30000,
    meshTagKey: 'mesh:service',
    ...options.config,
  };
  const runtime = createRuntime(config, db.doc);

  // Security as in AWS, with the keys made here: a CA key generated at start (KMS in AWS), a
  // data key for sealing private keys, and per-service tokens instead of IAM signatures.
  const sealer = AesGcmSealer.generate();
  const ca = await loadCertificateAuthority(runtime.store, createLocalCaSigner(), {
    mesh: config.render.meshName,
    now: new Date(),
    replaceForeign: true, // a persisted table outlives the CA key made at the previous start
  });
  const certificates: CertificateIssuer = {
    ca,
    sealer,
    policy: rotationPolicy({ lifetimeSeconds: config.certificateLifetimeSeconds }),
    now: () => new Date(),
  };
  await rotateCertificates(runtime.store, certificates);
  const rotation = setInterval(() => {
    rotateCertificates(runtime.store, certificates).catch((err) => console.error(`certificate rotation failed: ${(err as Error).message}`));
  }, 60_000);
  rotation.unref();
  const tokens = new ServiceTokens(randomBytes(32));
  const authMode = options.auth ?? 'none';
  const xds = createXdsHandler(runtime, {
    authMode,
    sealer: async () => sealer,
    principalOf: (event) => tokens.verify(event.headers?.authorization),
  });
  const admin = createAdminHandler(runtime, {
    certificates: async () => certificates,
    ...(authMode === 'token' ? { tokens } : {}),
  });
  const lifecycle = createLifecycleHandler({ store: runtime.store });

  const server = createServer((req, res) => {
    serve(req, res).catch((err) => send(res, errorResponse(err)));
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = requestUrl(req.url);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = await readBody(req, localBodyLimitBytes);
    const path = url.pathname;

    if (path.startsWith('/v3/')) {
      const event = functionUrlEvent({ method, url, headers: req.headers, body, sourceIp: req.socket.remoteAddress ?? '' });
      return sendLambda(res, await xds(event, lambdaContext('xds')));
    }
    if (path === '/events') {
      if (method !== 'POST') throw new HttpError(405, `${method} is not allowed on /events; POST an EventBridge event or an array of them`);
      return send(res, await postEvents(body));
    }
    if (
      path === '/services' ||
      path.startsWith('/services/') ||
      path === '/nodes' ||
      path === '/endpoints' ||
      path.startsWith('/bootstrap/') ||
      path.startsWith('/config/') ||
      isMeshPagePath(path)
    ) {
      const event = functionUrlEvent({ method, url, headers: req.headers, body, sourceIp: req.socket.remoteAddress ?? '' });
      return sendLambda(res, await admin(event, lambdaContext('admin')));
    }
    throw new HttpError(404, `no route for ${method} ${path}; see README.md for the local API`);
  }

  /** postEvents validates every event before applying any, so a bad batch changes nothing. */
  async function postEvents(body: string): Promise<HttpResponse> {
    const parsed = parseJsonBody(body, localBodyLimitBytes);
    const events = Array.isArray(parsed) ? parsed : [parsed];
    if (events.length === 0) throw new HttpError(400, 'no events: POST one EventBridge event or a non-empty array of them');
    const problems: string[] = [];
    for (const raw of events) {
      try {
        validateLifecycleEvent(raw);
      } catch (err) {
        if (err instanceof LifecycleEventError) problems.push(err.message);
        else throw err;
      }
    }
    if (problems.length > 0) return { status: 400, body: { error: 'rejected events; none were applied', problems } };
    const results = [];
    for (const raw of events) {
      try {
        results.push(await lifecycle(raw as EventBridgeEvent<string, unknown>, lambdaContext('lifecycle')));
      } catch (err) {
        // In AWS the event would be retried and then dead-lettered; locally the caller sees why.
        if (err instanceof LifecycleEventError) {
          return { status: 422, body: { error: err.message, eventId: err.eventId, applied: results } };
        }
        throw err;
      }
    }
    return { status: 200, body: { results } };
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 18000, options.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}`,
    port,
    runtime,
    xds,
    certificates,
    tokens,
    close: async () => {
      clearInterval(rotation);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.close();
    },
  };
}

/** requestUrl parses the request target as a path on this server, whatever its form ('//x', absolute). */
function requestUrl(target: string | undefined): URL {
  try {
    const url = new URL(`http://local${target?.startsWith('/') ? target : `/${target ?? ''}`}`);
    if (url.host !== 'local') throw new Error('absolute-form target');
    return url;
  } catch {
    throw new HttpError(400, `request target "${String(target).slice(0, 200)}" is not a path`);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
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

function send(res: ServerResponse, response: HttpResponse): void {
  if (res.headersSent) return;
  const hasBody = response.body !== undefined && response.status !== 304 && response.status !== 204;
  res.writeHead(response.status, { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...response.headers });
  res.end(hasBody ? JSON.stringify(response.body) : undefined);
}

function sendLambda(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.statusCode === 304 ? undefined : result.body);
}

export type { Server };

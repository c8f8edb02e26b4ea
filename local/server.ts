import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { HttpError, errorResponse, parseJsonBody } from '../shared/api/http';
import { FunctionConfig } from '../functions/lib/config';
import { createRuntime, Runtime } from '../functions/lib/runtime';
import { createXdsHandler } from '../functions/xds/handler';
import { createAdminHandler } from '../functions/admin/handler';
import { readMeshPageFiles } from '../functions/admin/page-files';
import { createLifecycleHandler } from '../functions/lifecycle/handler';
import { defaultRenderSettings } from '../shared/render/settings';
import { defaults, localRunnerDefaults } from '../shared/config';
import { startEmbeddedDynamoDb } from './embedded-dynamodb';
import { createPrivateKey, randomBytes, timingSafeEqual } from 'node:crypto';
import { AesGcmSealer } from '../shared/secrets/sealer';
import { localSigner } from '../shared/pki/signer';
import { loadLocalKeys } from './keys';
import { rotationPolicy } from '../shared/pki/rotation';
import { CertificateIssuer, loadCertificateAuthority, rotateCertificates } from '../shared/state/certificates';
import { ServiceTokens } from '../shared/xds/authorization';
import { functionUrlEvent, lambdaContext } from './lambda-invoke';
import { postEvents } from './events';
import { LocalInstances } from './instances';
import { TimerDrainScheduler, timerDrainScheduler } from '../shared/lifecycle/timer-scheduler';
import { isMeshPagePath } from '../shared/api/mesh-page';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { AdsServer, startAdsServer } from '../server/ads-server';
import { keepAliveMs, readBody, requestUrl, send } from '../server/http-io';
import { LocalRolloutMetrics } from './rollout-metrics';
import { RolloutOutcome, runRollouts } from '../shared/rollout/controller';
import { ChangeWatcher } from '../server/change-watcher';
import { OperatorCertificateSource } from '../shared/secrets/operator-source';
import { fileCertificateSource } from './gateway-certificates';
import { createRebuildHandler } from '../functions/rebuild/handler';
import { RebuildAdvance } from '../shared/reconcile/rebuild-driver';

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
  /**
   * Where to serve the push tier (ADS over gRPC, server/) beside REST: a port (0 picks one), or
   * undefined for none. Same core, same table, same node tracker as the REST routes; under
   * `auth: 'token'` a stream carries its service's token as `authorization: Bearer <token>` metadata.
   */
  readonly grpcPort?: number;
  /** How often the push tier re-reads the table for changes it was not told of (default 500 ms). */
  readonly changeCheckIntervalMs?: number;
  /** How often the rollout controller runs (default 10 s; AWS runs it once a minute). */
  readonly rolloutCheckIntervalMs?: number;
  /** The rollout controller's clock (default the real one): tests move it through a rollout's intervals. */
  readonly now?: () => Date;
  /**
   * Where gateway listener certificates are read, by secret ARN (Secrets Manager in AWS):
   * `npm start -- --gateway-certificate <arn>=<chain.pem>,<key.pem>` (local/gateway-certificates.ts).
   * @default - none: a gateway with a TLS listener is refused, naming the flag
   */
  readonly gatewayCertificates?: OperatorCertificateSource;
  /** How often the fleet rebuild checks for work (default 10 s; AWS: once a minute). It also runs at start and after `POST /rebuild`. */
  readonly rebuildCheckIntervalMs?: number;
}

export interface LocalControlPlane {
  readonly url: string;
  readonly port: number;
  readonly runtime: Runtime;
  /** The xDS handler's per-container state (cache, node tracker), as a Lambda container would hold it. */
  readonly xds: ReturnType<typeof createXdsHandler>;
  /** The local CA and its issuer: certificates for every declared service, rotated on a timer. */
  readonly certificates: CertificateIssuer;
  rotateCertificates(): Promise<void>;
  readonly tokens: ServiceTokens;
  /**
   * With `auth: 'token'`, the credential of the management API (`Authorization: Bearer <it>`
   * on every route but xDS): made at start and printed by `npm start`. Without it, a node's
   * own token could mint any other service's token and read its private key over SDS.
   */
  readonly adminToken?: string;
  /** The local stand-in for EC2 and Auto Scaling (`/local/instances`). */
  readonly instances: LocalInstances;
  /** Runs terminate hooks' completions after their drain, on timers. */
  readonly drains: TimerDrainScheduler;
  /** The push tier, when `grpcPort` was given: its server, and the watcher that wakes its streams. */
  readonly grpc?: { readonly port: number; readonly server: AdsServer; readonly watcher: ChangeWatcher };
  /** The rollout controller (it also runs on a timer) and the metrics it judges steps by (`POST /local/metrics`). */
  readonly rollouts: { run(): Promise<RolloutOutcome[]>; readonly metrics: LocalRolloutMetrics };
  /** The fleet rebuild: runs its slices until none is left (at start, on a timer, after `POST /rebuild`), returning each slice's outcome. */
  readonly rebuild: { run(): Promise<RebuildAdvance[]> };
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
    xdsAuthMode: options.auth ?? 'none',
    certificateLifetimeSeconds: defaults.certificateLifetimeSeconds,
    meshTagKey: defaults.meshTagKey,
    ...localRunnerDefaults,
    ...options.config,
  };
  const runtime = createRuntime(config, db.doc);

  // Security as in AWS, with the keys made here (kept in --data-dir): a CA key (KMS in AWS), a
  // data key for sealing private keys, and per-service tokens instead of IAM signatures.
  const keys = loadLocalKeys(options.dataDir);
  const sealer = new AesGcmSealer(keys.dataKey);
  const ca = await loadCertificateAuthority(runtime.store, localSigner(createPrivateKey(keys.caPrivateKeyPem)), {
    mesh: config.render.meshName,
    now: new Date(),
    // A table kept without its keys file (moved away, say) gets a new CA; the old one stays in
    // the trust bundle until every certificate is re-issued by the new one.
    replaceForeign: true,
  });
  let certificates: CertificateIssuer = {
    ca,
    sealer,
    policy: rotationPolicy({ lifetimeSeconds: config.certificateLifetimeSeconds }),
    now: () => new Date(),
    operatorCertificates: options.gatewayCertificates ?? fileCertificateSource(new Map()),
  };
  /** rotate renews what is due; once a retired CA is no longer needed, the CA is loaded again with the new bundle. */
  const rotate = async () => {
    const result = await rotateCertificates(runtime.store, certificates);
    if (result.retiredCaForgotten) {
      const reloaded = await loadCertificateAuthority(runtime.store, certificates.ca.signer, { mesh: config.render.meshName, now: new Date(), replaceForeign: false });
      certificates = { ...certificates, ca: reloaded };
      await rotateCertificates(runtime.store, certificates);
    }
  };
  await rotate();
  const rotation = setInterval(() => {
    rotate().catch((err) => console.error(`certificate rotation failed: ${(err as Error).message}`));
  }, 60_000);
  rotation.unref();
  const tokens = new ServiceTokens(keys.tokenSecret);
  const authMode = options.auth ?? 'none';
  const adminToken = authMode === 'token' ? randomBytes(32).toString('base64url') : undefined;
  const xds = createXdsHandler(runtime, {
    authMode,
    sealer: async () => sealer,
    principalOf: (event) => tokens.verify(event.headers?.authorization),
  });
  // EC2 and Auto Scaling, as far as lifecycle events need them: instances described over HTTP.
  const instances = new LocalInstances();
  const drains = timerDrainScheduler({ store: runtime.store, lifecycleActions: instances }, (completion, err) =>
    console.error(`drain of ${completion.hook.instanceId} failed: ${(err as Error).message}`),
  );
  const lifecycle = createLifecycleHandler({ store: runtime.store, instances, lifecycleActions: instances, drainScheduler: drains });

  // The push tier: its own cache, kept current by the change watcher (which each write below
  // pokes, so a local change is pushed at once; the interval catches anything else).
  let grpc: LocalControlPlane['grpc'];
  if (options.grpcPort !== undefined) {
    const grpcCache = new SnapshotCache(runtime.store, { ttlMs: 60_000, readBudgetMs: defaults.xdsReadBudgetMs });
    const ads = await startAdsServer(
      { cache: grpcCache, tracker: xds.tracker, authMode, sealer },
      options.host ?? '127.0.0.1',
      options.grpcPort,
      {
        principalOf: (metadata) => tokens.verify(metadata.get('authorization').map(String)[0]),
        onError: (message) => console.error(`push tier: ${message}`),
      },
    );
    const watcher = new ChangeWatcher(grpcCache, () => ads.streams, {
      intervalMs: options.changeCheckIntervalMs ?? 500,
      log: runtime.store.changes,
      onError: (message) => console.error(`push tier: ${message}`),
    });
    watcher.start();
    grpc = { port: ads.port, server: ads, watcher };
  }
  const admin = createAdminHandler(runtime, {
    // The mesh page as written in the source tree (the stack copies the same files beside the bundle).
    pageFiles: readMeshPageFiles(join(__dirname, '..', 'shared', 'api', 'mesh-page', 'assets')),
    certificates: async () => certificates,
    ...(authMode === 'token' ? { tokens } : {}),
    // ADS bootstraps (`?tier=grpc`) point at the push tier's port on the host asked.
    ...(grpc ? { bootstrap: { adsPort: grpc.port } } : {}),
  });

  // Progressive rollouts: the same controller as the scheduled function, on metrics fed locally.
  const rolloutMetrics = new LocalRolloutMetrics();
  const runLocalRollouts = async () => {
    const outcomes = await runRollouts({
      store: runtime.store,
      metrics: rolloutMetrics,
      settings: config.render,
      now: options.now ?? (() => new Date()),
      certificates: { issuer: certificates, store: runtime.store },
    });
    if (outcomes.length > 0) await grpc?.watcher.poke();
    return outcomes;
  };
  const rolloutTimer = setInterval(() => {
    runLocalRollouts().catch((err) => console.error(`rollout controller failed: ${(err as Error).message}`));
  }, options.rolloutCheckIntervalMs ?? 10_000);
  rolloutTimer.unref();

  // The fleet rebuild, as the scheduled function runs it: at start (the render settings may have
  // changed since the table was written: --routes, --observability, a new version of this code),
  // on a timer, and at once after POST /rebuild. Slices of 30 s, one after the other.
  const rebuildHandler = createRebuildHandler({ store: runtime.store, settings: config.render }, { reserveMs: 0 });
  let rebuilding: Promise<RebuildAdvance[]> | undefined;
  const runRebuild = (): Promise<RebuildAdvance[]> =>
    (rebuilding ??= (async () => {
      const outcomes: RebuildAdvance[] = [];
      for (;;) {
        const step = await rebuildHandler({}, lambdaContext('rebuild'));
        outcomes.push(step);
        if (step.outcome !== 'advanced') break;
      }
      if (outcomes.some((o) => o.slice.services > 0)) await grpc?.watcher.poke();
      return outcomes;
    })().finally(() => (rebuilding = undefined)));
  await runRebuild();
  const rebuildTimer = setInterval(() => {
    runRebuild().catch((err) => console.error(`fleet rebuild failed: ${(err as Error).message}`));
  }, options.rebuildCheckIntervalMs ?? 10_000);
  rebuildTimer.unref();

  const server = createServer({ keepAliveTimeout: keepAliveMs }, (req, res) => {
    serve(req, res)
      .catch((err) => send(res, errorResponse(err)))
      .finally(() => {
        if (grpc && req.method !== 'GET' && !req.url?.startsWith('/v3/')) void grpc.watcher.poke();
      });
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
    if (adminToken && !isBearer(req.headers.authorization, adminToken)) {
      throw new HttpError(401, `${method} ${path} needs the admin token that npm start printed: Authorization: Bearer <admin token>`);
    }
    if (path === '/local/instances' || path.startsWith('/local/instances/')) {
      return send(res, instances.route(method, path.split('/').filter(Boolean), body, localBodyLimitBytes));
    }
    if (path === '/local/metrics') {
      if (method !== 'POST') throw new HttpError(405, `${method} is not allowed on /local/metrics; POST a metric sample`);
      return send(res, { status: 200, body: rolloutMetrics.record(parseJsonBody(body, localBodyLimitBytes)) });
    }
    if (path === '/events') {
      if (method !== 'POST') throw new HttpError(405, `${method} is not allowed on /events; POST an EventBridge event or an array of them`);
      return send(res, await postEvents(body, localBodyLimitBytes, (event) => lifecycle(event, lambdaContext('lifecycle'))));
    }
    if (
      path === '/services' ||
      path.startsWith('/services/') ||
      path === '/nodes' ||
      path === '/endpoints' ||
      path.startsWith('/bootstrap/') ||
      path.startsWith('/config/') ||
      path === '/rebuild' ||
      isMeshPagePath(path)
    ) {
      const event = functionUrlEvent({ method, url, headers: req.headers, body, sourceIp: req.socket.remoteAddress ?? '' });
      const result = await admin(event, lambdaContext('admin'));
      // A rebuild asked for starts at once here, rather than at the next tick.
      if (path === '/rebuild' && method === 'POST' && result.statusCode === 202) {
        void runRebuild().catch((err) => console.error(`fleet rebuild failed: ${(err as Error).message}`));
      }
      return sendLambda(res, result);
    }
    throw new HttpError(404, `no route for ${method} ${path}; see README.md for the local API`);
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
    get certificates() {
      return certificates;
    },
    /** rotateCertificates runs the local rotation now (it also runs every minute). */
    rotateCertificates: rotate,
    tokens,
    ...(adminToken ? { adminToken } : {}),
    instances,
    drains,
    ...(grpc ? { grpc } : {}),
    rollouts: { run: runLocalRollouts, metrics: rolloutMetrics },
    rebuild: { run: runRebuild },
    close: async () => {
      clearInterval(rotation);
      clearInterval(rebuildTimer);
      // A rebuild in flight must not read the table being closed.
      await rebuilding?.catch(() => undefined);
      clearInterval(rolloutTimer);
      drains.cancelAll();
      // The watcher first, and awaited: a check in flight must not read the table being closed.
      await grpc?.watcher.stop();
      await grpc?.server.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await db.close();
    },
  };
}

/** isBearer checks an Authorization header against a bearer token in constant time. */
function isBearer(authorization: string | undefined, token: string): boolean {
  const given = Buffer.from(authorization ?? '');
  const expected = Buffer.from(`Bearer ${token}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function sendLambda(res: ServerResponse, result: APIGatewayProxyStructuredResultV2): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
  res.writeHead(result.statusCode ?? 200, headers);
  res.end(result.statusCode === 304 ? undefined : result.body);
}

export type { Server };

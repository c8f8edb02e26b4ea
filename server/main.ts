import { parseArgs } from 'node:util';
import { KMSClient } from '@aws-sdk/client-kms';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { readConfig } from '../functions/lib/config';
import { loadKmsDataKeySealer } from '../functions/lib/kms-data-key';
import { documentClientFor } from '../shared/store/dynamodb';
import { MeshStore } from '../shared/store/mesh-store';
import { currentTrustBundle } from '../shared/state/certificates';
import { defaults } from '../shared/config';
import { DiscoveryDeps } from '../shared/xds/discovery';
import { NodeTracker } from '../shared/xds/node-tracker';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { startAdsServer } from './ads-server';
import { ChangeWatcher } from './change-watcher';
import { healthPath, startRestServer } from './rest-server';
import { meshTls, principalOfPeer, pushCertificateFunction } from './identity';
import { PushMetrics } from './metrics';

/**
 * The push tier's process entry (`tsx server/main.ts`): an ADS server over the state table,
 * configured like the functions (TABLE_NAME, AWS_REGION, DYNAMODB_ENDPOINT for a local table),
 * plus GRPC_PORT (default 18001), HOST (default 0.0.0.0), CHANGE_CHECK_MS (default 500: how
 * often the change log is read) and CHANGE_SWEEP_MS (default 60000: how often every service
 * with streams is re-read whole, the safety net; 0 never).
 * Beside it, on HTTP_PORT (default 18000, the REST tier's port; `off` for none), the REST xDS
 * routes (`POST /v3/discovery:<type>`, same core, cache and node tracker as the streams) and
 * `GET /healthz` for load balancers (503 once draining).
 *
 * With XDS_TLS=mesh (in AWS) streams are mutual TLS: a node presents its service's mesh
 * certificate and may fetch only that service's configuration (server/identity.ts). The
 * server's own certificate comes from the function PUSH_CERTIFICATE_FUNCTION names, for a key
 * made here: the task never signs with the CA key. The REST
 * routes beside them, plain HTTP without a client certificate, then refuse every poll
 * (unauthenticated) and serve only the health check. Without it, it authenticates nobody
 * (XDS_AUTH_MODE must be `none`), for tests and the local runner. With DATA_KEY_ID (the KMS key
 * sealing service private keys, as for the xDS function) it serves SDS; until the data key
 * opens, SDS answers unavailable and it retries every 30 s. Every minute (METRICS_INTERVAL_MS)
 * it prints EMF metric lines (server/metrics.ts). On SIGTERM it closes gracefully: the health
 * check fails, GOAWAY, every stream ended so its client reconnects to another task with the
 * config it has, in-flight polls finished, and exit within GRACE_MS.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log(
      'usage: TABLE_NAME=t XDS_AUTH_MODE=none [XDS_TLS=mesh PUSH_CERTIFICATE_FUNCTION=f] [GRPC_PORT=18001] [HTTP_PORT=18000|off] [HOST=0.0.0.0] [CHANGE_CHECK_MS=500] [CHANGE_SWEEP_MS=60000] [GRACE_MS=5000] [MAX_STREAMS=10000] [METRICS_INTERVAL_MS=60000] [DATA_KEY_ID=k] tsx server/main.ts',
    );
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = readConfig({ XDS_AUTH_MODE: 'none', ...process.env });
  if (config.xdsAuthMode !== 'none') throw new Error(`XDS_AUTH_MODE must be none for the push tier (gRPC carries no SigV4), got "${config.xdsAuthMode}"`);
  const port = integer('GRPC_PORT', 18001);
  const httpPort = process.env.HTTP_PORT === 'off' ? undefined : integer('HTTP_PORT', 18000);
  const host = process.env.HOST || '0.0.0.0';
  const graceMs = integer('GRACE_MS', 5000);
  // The functions' runtime is not used: its X-Ray instrumentation loads cls-hooked, whose async
  // hooks cost this long-lived process about a tenth of its CPU at 1,000 streams (bench/suites/push.ts).
  const store = new MeshStore(documentClientFor(config), config.tableName);
  const cache = new SnapshotCache(store, { ttlMs: 60_000, readBudgetMs: defaults.xdsReadBudgetMs });
  const tracker = new NodeTracker(store, {
    minWriteGapMs: config.nodeStatusMinWriteGapMs,
    livenessIntervalMs: config.nodeStatusLivenessMs,
    writeBehind: true, // a push is not held up by a status write
  });
  const tls = process.env.XDS_TLS === 'mesh' ? await meshTls(pushCertificateSource(config.region), (m) => console.error(m), { currentTrustBundle: () => currentTrustBundle(store) }) : undefined;
  // One deps object for streams and polls; its sealer is filled in once the data key opens.
  const deps: { -readonly [K in keyof DiscoveryDeps]: DiscoveryDeps[K] } = { cache, tracker, authMode: tls ? 'mtls' : 'none' };
  const sealerRetry = config.dataKeyId ? openSealer(deps, store, config.dataKeyId, config.region) : undefined;
  const metrics = new PushMetrics();
  const ads = await startAdsServer(deps, host, port, {
    onError: (m) => console.error(m),
    onPoll: (poll) => metrics.observe(poll),
    maxStreams: integer('MAX_STREAMS', 10_000),
    ...(tls ? { credentials: tls.credentials(), principalOf: (_m, auth) => principalOfPeer(auth, config.render.meshName) } : {}),
  });
  const flushMetrics = () => metrics.flush(ads.streams.size).forEach((line) => console.log(line));
  setInterval(flushMetrics, integer('METRICS_INTERVAL_MS', 60_000)).unref();
  const watcher = new ChangeWatcher(cache, () => ads.streams, {
    intervalMs: integer('CHANGE_CHECK_MS', 500),
    log: store.changes,
    sweepIntervalMs: integer('CHANGE_SWEEP_MS', 60_000),
    onError: (m) => console.error(m),
  });
  watcher.start();
  const rest =
    httpPort === undefined
      ? undefined
      : await startRestServer(deps, host, httpPort, { healthDetails: () => ({ streams: ads.streams.size }), onError: (m) => console.error(m) });
  console.log(`push tier: ADS on ${host}:${ads.port}${rest ? `, REST xDS and ${healthPath} on ${host}:${rest.port}` : ''}, table ${config.tableName}`);
  const stop = async () => {
    rest?.drain();
    // Not awaited: a first data-key attempt still in flight must not hold up the close.
    void sealerRetry?.then((timer) => clearInterval(timer));
    tls?.stop();
    // GOAWAY at once: the watcher's check in flight ends with the streams it would wake.
    await Promise.all([watcher.stop(), ads.close(graceMs), rest?.close(graceMs)]);
    flushMetrics();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

/**
 * pushCertificateSource is the push-certificate function named by PUSH_CERTIFICATE_FUNCTION:
 * the task signs nothing itself, it asks that function for its certificate (server/identity.ts).
 */
function pushCertificateSource(region: string) {
  const functionName = process.env.PUSH_CERTIFICATE_FUNCTION;
  if (!functionName) throw new Error('XDS_TLS=mesh needs PUSH_CERTIFICATE_FUNCTION: the function that issues the push tier its certificate');
  return pushCertificateFunction(new LambdaClient({ region }), functionName);
}

/**
 * openSealer opens the data key as the xDS function does (a reader: it never makes one). Until
 * it opens, SDS is `unavailable` (Envoy retries and keeps its secrets); it is tried again every
 * 30 s. Resolves to the retry timer, stopped at shutdown.
 */
async function openSealer(
  deps: { sealer?: DiscoveryDeps['sealer'] },
  store: MeshStore,
  keyId: string,
  region: string,
): Promise<NodeJS.Timeout | undefined> {
  deps.sealer = 'unavailable'; // until it opens: SDS answers "retry", never "not served"
  const kms = new KMSClient({ region });
  const attempt = async (): Promise<boolean> => {
    try {
      deps.sealer = await loadKmsDataKeySealer(kms, keyId, store, { make: false });
      return true;
    } catch (err) {
      deps.sealer = 'unavailable';
      console.error(`the secrets data key could not be loaded (SDS unavailable; retrying): ${(err as Error).message}`);
      return false;
    }
  };
  if (await attempt()) return undefined;
  const timer = setInterval(() => {
    void attempt().then((opened) => opened && clearInterval(timer));
  }, 30_000);
  timer.unref();
  return timer;
}

function integer(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

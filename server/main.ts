import { parseArgs } from 'node:util';
import { readConfig } from '../functions/lib/config';
import { createRuntime } from '../functions/lib/runtime';
import { defaults } from '../shared/config';
import { NodeTracker } from '../shared/xds/node-tracker';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { startAdsServer } from './ads-server';
import { ChangeWatcher } from './change-watcher';
import { meshTls, principalOfPeer } from './identity';
import { PushMetrics } from './metrics';

/**
 * The push tier's process entry (`tsx server/main.ts`): an ADS server over the state table,
 * configured like the functions (TABLE_NAME, AWS_REGION, DYNAMODB_ENDPOINT for a local table),
 * plus GRPC_PORT (default 18001), HOST (default 0.0.0.0) and CHANGE_CHECK_MS (default 500).
 *
 * With XDS_TLS=mesh (in AWS) streams are mutual TLS: a node presents its service's mesh
 * certificate and may fetch only that service's configuration (server/identity.ts). Without
 * it, it authenticates nobody (XDS_AUTH_MODE must be `none`), for tests and the local
 * runner. Every minute (METRICS_INTERVAL_MS) it prints EMF metric lines (server/metrics.ts).
 * It serves no secrets (SDS needs the KMS data key; not wired here yet). On SIGTERM it closes gracefully: GOAWAY, every stream ended so its
 * client reconnects to another task with the config it has, and exit within GRACE_MS.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log('usage: TABLE_NAME=t [XDS_TLS=mesh CA_KEY_ID=k] [GRPC_PORT=18001] [HOST=0.0.0.0] [CHANGE_CHECK_MS=500] [GRACE_MS=5000] tsx server/main.ts');
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = readConfig({ XDS_AUTH_MODE: 'none', ...process.env });
  if (config.xdsAuthMode !== 'none') throw new Error(`XDS_AUTH_MODE must be none for the push tier (gRPC carries no SigV4), got "${config.xdsAuthMode}"`);
  const port = integer('GRPC_PORT', 18001);
  const host = process.env.HOST || '0.0.0.0';
  const graceMs = integer('GRACE_MS', 5000);
  const runtime = createRuntime(config);
  const cache = new SnapshotCache(runtime.store, { ttlMs: 60_000, readBudgetMs: defaults.xdsReadBudgetMs });
  const tracker = new NodeTracker(runtime.store, {
    minWriteGapMs: config.nodeStatusMinWriteGapMs,
    livenessIntervalMs: config.nodeStatusLivenessMs,
  });
  const tls = process.env.XDS_TLS === 'mesh' ? await meshTls(runtime, (m) => console.error(m)) : undefined;
  const metrics = new PushMetrics();
  const ads = await startAdsServer({ cache, tracker, authMode: tls ? 'mtls' : 'none' }, host, port, {
    onError: (m) => console.error(m),
    onPoll: (poll) => metrics.observe(poll),
    maxStreams: integer('MAX_STREAMS', 10_000),
    ...(tls ? { credentials: tls.credentials(), principalOf: (_m, auth) => principalOfPeer(auth, config.render.meshName) } : {}),
  });
  const flushMetrics = () => metrics.flush(ads.streams.size).forEach((line) => console.log(line));
  setInterval(flushMetrics, integer('METRICS_INTERVAL_MS', 60_000)).unref();
  const watcher = new ChangeWatcher(cache, () => ads.streams, { intervalMs: integer('CHANGE_CHECK_MS', 500), onError: (m) => console.error(m) });
  watcher.start();
  console.log(`push tier: ADS on ${host}:${ads.port}, table ${config.tableName}`);
  const stop = async () => {
    watcher.stop();
    tls?.stop();
    await ads.close(graceMs);
    flushMetrics();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
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

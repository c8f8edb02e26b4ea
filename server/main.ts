import { parseArgs } from 'node:util';
import { readConfig } from '../functions/lib/config';
import { createDocumentClient } from '../shared/store/dynamodb';
import { MeshStore } from '../shared/store/mesh-store';
import { defaults } from '../shared/config';
import { NodeTracker } from '../shared/xds/node-tracker';
import { SnapshotCache } from '../shared/xds/snapshot-cache';
import { startAdsServer } from './ads-server';
import { ChangeWatcher } from './change-watcher';

/**
 * The push tier's process entry (`tsx server/main.ts`): an ADS server over the state table,
 * configured like the functions (TABLE_NAME, AWS_REGION, DYNAMODB_ENDPOINT for a local table),
 * plus GRPC_PORT (default 18001), HOST (default 0.0.0.0) and CHANGE_CHECK_MS (default 500).
 *
 * It authenticates nobody: gRPC carries no SigV4, so XDS_AUTH_MODE must be `none`, for a
 * server reached only inside the VPC. It serves no secrets (SDS needs the KMS data key;
 * not wired here yet). On SIGTERM it closes gracefully: GOAWAY, every stream ended so its
 * client reconnects to another task with the config it has, and exit within GRACE_MS.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({ options: { help: { type: 'boolean', short: 'h', default: false } } });
  if (values.help) {
    console.log('usage: TABLE_NAME=t XDS_AUTH_MODE=none [GRPC_PORT=18001] [HOST=0.0.0.0] [CHANGE_CHECK_MS=500] [GRACE_MS=5000] tsx server/main.ts');
    return;
  }
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const config = readConfig({ XDS_AUTH_MODE: 'none', ...process.env });
  if (config.xdsAuthMode !== 'none') throw new Error(`XDS_AUTH_MODE must be none for the push tier (gRPC carries no SigV4), got "${config.xdsAuthMode}"`);
  const port = integer('GRPC_PORT', 18001);
  const host = process.env.HOST || '0.0.0.0';
  const graceMs = integer('GRACE_MS', 5000);
  // The functions' runtime is not used: its X-Ray instrumentation loads cls-hooked, whose async
  // hooks cost this long-lived process about a tenth of its CPU at 1,000 streams (bench/suites/push.ts).
  const doc = createDocumentClient({
    region: config.region,
    ...(config.dynamodbEndpoint ? { endpoint: config.dynamodbEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  const store = new MeshStore(doc, config.tableName);
  const cache = new SnapshotCache(store, { ttlMs: 60_000, readBudgetMs: defaults.xdsReadBudgetMs });
  const tracker = new NodeTracker(store, {
    minWriteGapMs: config.nodeStatusMinWriteGapMs,
    livenessIntervalMs: config.nodeStatusLivenessMs,
    writeBehind: true, // a push is not held up by a status write
  });
  const ads = await startAdsServer({ cache, tracker, authMode: 'none' }, host, port, { onError: (m) => console.error(m) });
  const watcher = new ChangeWatcher(cache, () => ads.streams, { intervalMs: integer('CHANGE_CHECK_MS', 500), onError: (m) => console.error(m) });
  watcher.start();
  console.log(`push tier: ADS on ${host}:${ads.port}, table ${config.tableName}`);
  const stop = async () => {
    watcher.stop();
    await ads.close(graceMs);
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

import { fromEnv } from '@aws-sdk/credential-provider-env';
import { documentClientFor } from '../../shared/store/dynamodb';
import { readConfig } from '../lib/config';
import { loadDataKeySealer } from '../lib/kms-data-key';
import { kmsDecryptOnly } from '../lib/kms';
import { createXdsHandler } from './handler';
import { xdsStoreOf } from './store';

// The xds function runs on every poll of the fleet, so its bundle carries only what a poll
// uses (infra/mesh-function.ts, "The xds function's bundle"): no X-Ray SDK (Lambda's active
// tracing records the function's segment), and KMS only as the one Decrypt it makes.
const config = readConfig();
const runtime = { config, store: xdsStoreOf(documentClientFor(config), config.tableName) };
const dataKeyId = config.dataKeyId;
const kms = kmsDecryptOnly({ region: config.region, credentials: fromEnv() });

// A reader: it opens the data key an issuer made, and never makes one (its role may not).
export const handler = createXdsHandler(runtime, {
  authMode: config.xdsAuthMode,
  ...(dataKeyId ? { sealer: () => loadDataKeySealer(kms, dataKeyId, runtime.store, { make: false }) } : {}),
});

import { KMSClient } from '@aws-sdk/client-kms';
import { readConfig } from '../lib/config';
import { createRuntime } from '../lib/runtime';
import { loadKmsDataKeySealer } from '../lib/kms-data-key';
import { createXdsHandler } from './handler';
import { traced } from '../lib/observability';

const config = readConfig();
const runtime = createRuntime(config);
const dataKeyId = config.dataKeyId;

// A reader: it opens the data key an issuer made, and never makes one (its role may not).
export const handler = createXdsHandler(runtime, {
  authMode: config.xdsAuthMode,
  ...(dataKeyId ? { sealer: () => loadKmsDataKeySealer(traced(new KMSClient({ region: config.region })), dataKeyId, runtime.store, { make: false }) } : {}),
});

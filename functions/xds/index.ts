import { KMSClient } from '@aws-sdk/client-kms';
import { documentClientFor } from '../../shared/store/dynamodb';
import { readConfig } from '../lib/config';
import { runtimeOf } from '../lib/store-runtime';
import { loadKmsDataKeySealer } from '../lib/kms-data-key';
import { createXdsHandler } from './handler';

// No X-Ray SDK here (infra/mesh-function.ts, "The xds function and X-Ray", says why): the
// clients are used as they are, and Lambda's active tracing records the function's segment.
const config = readConfig();
const runtime = runtimeOf(config, documentClientFor(config));
const dataKeyId = config.dataKeyId;

// A reader: it opens the data key an issuer made, and never makes one (its role may not).
export const handler = createXdsHandler(runtime, {
  authMode: config.xdsAuthMode,
  ...(dataKeyId ? { sealer: () => loadKmsDataKeySealer(new KMSClient({ region: config.region }), dataKeyId, runtime.store, { make: false }) } : {}),
});

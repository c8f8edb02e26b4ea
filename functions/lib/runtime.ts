import { MeshStore } from '../../shared/store/mesh-store';
import { createDocumentClient } from '../../shared/store/dynamodb';
import { FunctionConfig } from './config';
import { traced } from './observability';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Runtime is what every function shares per container: one client, one store. */
export interface Runtime {
  readonly config: FunctionConfig;
  readonly doc: DynamoDBDocumentClient;
  readonly store: MeshStore;
}

export function createRuntime(config: FunctionConfig, doc?: DynamoDBDocumentClient): Runtime {
  const client =
    doc ??
    createDocumentClient({
      region: config.region,
      ...(config.dynamodbEndpoint
        ? { endpoint: config.dynamodbEndpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
        : {}),
    });
  const instrumented = doc ? client : traced(client);
  return { config, doc: instrumented, store: new MeshStore(instrumented, config.tableName) };
}

import { MeshStore } from '../../shared/store/mesh-store';
import { documentClientFor } from '../../shared/store/dynamodb';
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
  const client = doc ?? documentClientFor(config);
  const instrumented = doc ? client : traced(client);
  return { config, doc: instrumented, store: new MeshStore(instrumented, config.tableName) };
}

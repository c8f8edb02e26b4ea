import { MeshStore } from '../../shared/store/mesh-store';
import { documentClientFor } from '../../shared/store/dynamodb';
import { FunctionConfig } from './config';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/** Runtime is what every function shares per container: one client, one store. */
export interface Runtime {
  readonly config: FunctionConfig;
  readonly doc: DynamoDBDocumentClient;
  readonly store: MeshStore;
}

export function createRuntime(config: FunctionConfig, doc?: DynamoDBDocumentClient): Runtime {
  const client = doc ?? documentClientFor(config);
  return { config, doc: client, store: new MeshStore(client, config.tableName) };
}

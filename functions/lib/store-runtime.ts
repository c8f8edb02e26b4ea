import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { MeshStore } from '../../shared/store/mesh-store';
import { FunctionConfig } from './config';

/** Runtime is what every function shares per container: one client, one store. */
export interface Runtime {
  readonly config: FunctionConfig;
  readonly doc: DynamoDBDocumentClient;
  readonly store: MeshStore;
}

/**
 * runtimeOf builds the container's store on a client as it is given: no X-Ray instrumentation
 * (createRuntime in runtime.ts adds it). The xds function uses this one alone, so its bundle
 * carries no X-Ray SDK (infra/mesh-function.ts says why).
 */
export function runtimeOf(config: FunctionConfig, doc: DynamoDBDocumentClient): Runtime {
  return { config, doc, store: new MeshStore(doc, config.tableName) };
}

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { documentClientFor } from '../../shared/store/dynamodb';
import { FunctionConfig } from './config';
import { traced } from './observability';
import { Runtime, runtimeOf } from './store-runtime';

export type { Runtime };

/** createRuntime gives a container its store; a client it makes itself is traced (X-Ray subsegments per call). */
export function createRuntime(config: FunctionConfig, doc?: DynamoDBDocumentClient): Runtime {
  return runtimeOf(config, doc ?? traced(documentClientFor(config)));
}

import dynalite from 'dynalite';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import { createDocumentClient, ensureTable } from '../shared/store/dynamodb';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

export interface EmbeddedDynamoDb {
  readonly endpoint: string;
  readonly doc: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/**
 * startEmbeddedDynamoDb runs dynalite (a DynamoDB implementation on LevelDB) in this process
 * on a loopback port, in memory or in `dataDir`, and creates the state table. The real AWS SDK
 * client talks to it over HTTP, so conditional writes, pagination and item limits are DynamoDB's.
 */
export async function startEmbeddedDynamoDb(options: { dataDir?: string; tableName: string }): Promise<EmbeddedDynamoDb> {
  if (options.dataDir) mkdirSync(options.dataDir, { recursive: true });
  const server = dynalite({
    ...(options.dataDir ? { path: options.dataDir } : {}),
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const doc = createDocumentClient({
    endpoint,
    region: 'local',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  await ensureTable(doc, options.tableName);
  return {
    endpoint,
    doc,
    close: async () => {
      doc.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

import { randomUUID } from 'node:crypto';
import { ensureTable } from '../../shared/store/dynamodb';
import { MeshStore, MeshStoreOptions } from '../../shared/store/mesh-store';
import { EmbeddedDynamoDb, startEmbeddedDynamoDb } from '../../local/embedded-dynamodb';

/**
 * withDynalite starts one in-process dynalite per test file; each test gets its own table, so
 * tests never see each other's state. It is the real DynamoDB API, reached by the real SDK.
 */
export function useDynalite(): { db: () => EmbeddedDynamoDb; newStore: (options?: MeshStoreOptions) => Promise<MeshStore> } {
  let db: EmbeddedDynamoDb | undefined;
  beforeAll(async () => {
    db = await startEmbeddedDynamoDb({ tableName: 'bootstrap' });
  });
  afterAll(async () => {
    await db?.close();
  });
  return {
    db: () => db!,
    newStore: async (options) => {
      const tableName = `t-${randomUUID()}`;
      await ensureTable(db!.doc, tableName);
      return new MeshStore(db!.doc, tableName, options);
    },
  };
}

import { randomUUID } from 'node:crypto';
import { StoreUnavailableError } from '../../errors';
import { ChangeLogReader, ChangeLogSettings, ChangeLogWriter, ChangeRecord, ChangedItemKind, sequenceFloor, sequenceOf, shardOf } from '../change-log';
import { changeLogPartition, keys, ttlAttribute } from '../layout';
import { StateTable } from './table';
import { toChangeRecord } from './rows';

/** How many times a record that keeps landing late is appended again before the write reports failure. */
const maxAppendAttempts = 3;

/**
 * DynamoChangeLog keeps the change log in the state table (`CHANGES#<shard> / <sequence>`,
 * see change-log.ts for why sequences are time-ordered). A record is small (about 100 bytes)
 * and expires by the table's TTL; readers never rely on expiry, they read only a recent span.
 */
export class DynamoChangeLog implements ChangeLogWriter, ChangeLogReader {
  private readonly nonce = randomUUID().slice(0, 8);
  private counter = 0;

  constructor(
    private readonly table: StateTable,
    private readonly settings: Pick<ChangeLogSettings, 'shards' | 'ttlSeconds' | 'maxWriteLatencyMs'>,
    private readonly now: () => number,
  ) {}

  async append(service: string, item: ChangedItemKind, version: string): Promise<void> {
    const shard = shardOf(service, this.settings.shards);
    for (let attempt = 1; attempt <= maxAppendAttempts; attempt++) {
      const at = this.now();
      // The nonce tells writers apart, the counter (padded, so it sorts) this writer's records of one millisecond.
      const sequence = sequenceOf(at, `${this.nonce}#${(this.counter++ % 36 ** 8).toString(36).padStart(8, '0')}`);
      await this.table.put('appendChange', {
        Item: {
          ...keys.change(shard, sequence),
          kind: 'change',
          service,
          item,
          version,
          [ttlAttribute]: Math.floor(at / 1000) + this.settings.ttlSeconds,
        },
      });
      // A record that landed later than readers' overlap allows may fall behind a reader's
      // window: write it again, stamped now. Readers that saw the first wake once more, harmlessly.
      if (this.now() - at <= this.settings.maxWriteLatencyMs) return;
    }
    throw new StoreUnavailableError(`appendChange (records of "${service}" kept landing later than ${this.settings.maxWriteLatencyMs} ms)`);
  }

  async readSince(fromMs: number): Promise<ChangeRecord[]> {
    const records: ChangeRecord[] = [];
    for (let shard = 0; shard < Math.max(1, this.settings.shards); shard++) {
      const items = await this.table.query('readChanges', {
        KeyConditionExpression: 'pk = :pk AND sk >= :from',
        ExpressionAttributeValues: { ':pk': changeLogPartition(shard), ':from': sequenceFloor(fromMs) },
        // A replica may not have the newest records yet, and a record read late may be one
        // the reader's window has passed: read what was written.
        ConsistentRead: true,
      });
      records.push(...items.map(toChangeRecord));
    }
    return records.sort((a, b) => (a.sequence < b.sequence ? -1 : a.sequence > b.sequence ? 1 : 0));
  }
}

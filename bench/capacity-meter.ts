import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

const reads = new Set(['GetItem', 'BatchGetItem', 'Query', 'Scan']);
const writes = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

/**
 * CapacityMeter asks DynamoDB for the capacity every request of a client consumes
 * (ReturnConsumedCapacity: TOTAL) and adds it up, reads and writes apart, with the requests.
 * dynalite reports it by DynamoDB's rules (shared/store/capacity.ts) for every operation the
 * control plane sends. Two cases it does not report are counted as DynamoDB bills them: a
 * conditional write whose condition failed (an error, no capacity in it) costs one write
 * unit, and a read of nothing costs DynamoDB's minimum (1 consistent, 0.5 eventually).
 */
export class CapacityMeter {
  private totals = { readUnits: 0, writeUnits: 0, reads: 0, writes: 0 };

  constructor(doc: DynamoDBDocumentClient) {
    doc.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        const low = operation.endsWith('Item') || operation === 'Query' || operation === 'Scan' ? operation : `${operation}Item`;
        const isRead = reads.has(low);
        const isWrite = writes.has(low);
        if (!isRead && !isWrite) return next(args);
        const input = args.input as Record<string, unknown>;
        input.ReturnConsumedCapacity = 'TOTAL';
        const batch = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>);
        const consistent = low === 'BatchGetItem' ? batch.every((r) => r.ConsistentRead === true) : input.ConsistentRead === true;
        if (isRead) this.totals.reads++;
        else this.totals.writes++;
        try {
          const result = await next(args);
          const consumed = (result.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
          const reported = (Array.isArray(consumed) ? consumed : consumed ? [consumed] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
          if (isRead) this.totals.readUnits += Math.max(reported, consistent ? 1 : 0.5);
          else this.totals.writeUnits += Math.max(reported, 1);
          return result;
        } catch (err) {
          if (isWrite && err instanceof Error && err.name === 'ConditionalCheckFailedException') this.totals.writeUnits += 1;
          throw err;
        }
      },
      { step: 'initialize', name: 'capacityMeter' },
    );
  }

  reset(): void {
    this.totals = { readUnits: 0, writeUnits: 0, reads: 0, writes: 0 };
  }

  /** read: read units, write units and requests since the last reset. */
  read(): { readonly readUnits: number; readonly writeUnits: number; readonly reads: number; readonly writes: number } {
    return { ...this.totals };
  }
}

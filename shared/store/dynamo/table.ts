import {
  BatchGetCommand,
  DeleteCommand,
  DeleteCommandInput,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  PutCommandInput,
  QueryCommand,
  QueryCommandInput,
  UpdateCommand,
  UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ConditionFailedError, StoreUnavailableError } from '../../errors';

/** A table item as the document client gives it. */
export type Item = Record<string, unknown>;
export type Key = { readonly pk: string; readonly sk: string };

type Input<T> = Omit<T, 'TableName'>;

const isConditionFailure = (err: unknown): boolean => err instanceof Error && err.name === 'ConditionalCheckFailedException';

/**
 * StateTable is the one table every DynamoDB repository reads and writes, with the plumbing
 * they share. Every failure leaves it as a domain error naming the operation: a failed
 * condition as ConditionFailedError (in one place, `send`), anything else as
 * StoreUnavailableError (retryable, never a client mistake).
 */
export class StateTable {
  constructor(
    readonly doc: DynamoDBDocumentClient,
    readonly tableName: string,
  ) {}

  async get(operation: string, key: Key, options: { consistent?: boolean } = {}): Promise<Item | undefined> {
    const out = await this.send(operation, () =>
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: key, ...(options.consistent ? { ConsistentRead: true } : {}) })),
    );
    return out.Item;
  }

  /** put writes an item; with a condition that fails it throws ConditionFailedError and writes nothing. */
  async put(operation: string, input: Input<PutCommandInput>): Promise<void> {
    await this.send(operation, () => this.doc.send(new PutCommand({ ...input, TableName: this.tableName })));
  }

  /** update changes an item and returns the attributes asked for; a failed condition is ConditionFailedError. */
  async update(operation: string, input: Input<UpdateCommandInput>): Promise<Item | undefined> {
    const out = await this.send(operation, () => this.doc.send(new UpdateCommand({ ...input, TableName: this.tableName })));
    return out.Attributes;
  }

  /** delete removes an item; a failed condition is ConditionFailedError. */
  async delete(operation: string, input: Input<DeleteCommandInput>): Promise<void> {
    await this.send(operation, () => this.doc.send(new DeleteCommand({ ...input, TableName: this.tableName })));
  }

  /** query reads every page of a query; `signal` ends it, the SDK's retries included, when the caller's time is up. */
  async query(operation: string, input: Input<QueryCommandInput>, options: { readonly signal?: AbortSignal } = {}): Promise<Item[]> {
    const items: Item[] = [];
    let startKey: Item | undefined;
    do {
      if (options.signal?.aborted) throw new StoreUnavailableError(`${operation} (out of time)`);
      const out = await this.send(operation, () =>
        this.doc.send(
          new QueryCommand({ ...input, TableName: this.tableName, ExclusiveStartKey: startKey }),
          options.signal ? { abortSignal: options.signal } : {},
        ),
      );
      items.push(...(out.Items ?? []));
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * batchGet reads up to any number of keys, 100 per request, retrying unprocessed keys;
   * `consistent` reads what the last write wrote (twice the read units), as writes that
   * depend on the read need.
   */
  async batchGet(operation: string, keyList: readonly Key[], options: ReadOptions = {}): Promise<Item[]> {
    const items: Item[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let pending: Item[] | undefined = keyList.slice(i, i + 100);
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 25 * 2 ** attempt), options.signal);
        if (attempt > 8) throw new StoreUnavailableError(`${operation} (unprocessed keys)`);
        if (options.signal?.aborted) throw new StoreUnavailableError(`${operation} (out of time)`);
        const request: Item[] = pending;
        const out = await this.send(operation, () =>
          this.doc.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: request, ...(options.consistent ? { ConsistentRead: true } : {}) } } }),
            // The SDK's own retries (throttling) stop when the caller's time is up.
            options.signal ? { abortSignal: options.signal } : {},
          ),
        );
        items.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys as Item[] | undefined;
      }
    }
    return items;
  }

  /** send is the one place a DynamoDB failure becomes a domain error. */
  private async send<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isConditionFailure(err)) throw new ConditionFailedError(operation, { cause: err });
      throw new StoreUnavailableError(operation, { cause: err });
    }
  }
}

/**
 * written says whether a conditional write wrote: for the writes whose failed condition is an
 * answer ('stale', 'a newer one is there', 'keep the first') rather than an error.
 */
export async function written(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    if (err instanceof ConditionFailedError) return false;
    throw err;
  }
}

/** ReadOptions: `consistent` reads the last write; `signal` ends the read, retries included, when the caller's time is up. */
export interface ReadOptions {
  readonly consistent?: boolean;
  readonly signal?: AbortSignal;
}

/** sleep waits, or less when `signal` aborts first. */
const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });

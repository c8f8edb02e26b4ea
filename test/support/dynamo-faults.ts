import { Readable } from 'node:stream';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createDocumentClient } from '../../shared/store/dynamodb';

/**
 * FaultyDynamoDb is a real SDK client of the in-process dynalite with faults that only real
 * DynamoDB shows, injected through the SDK's middleware stack, innermost (below the
 * deserializer, where the HTTP response is made), so the SDK's own retries, error parsing
 * and the document client's unmarshalling all run as they do against AWS:
 *
 * - `lag()` freezes a replica: from then on, every eventually consistent GetItem, BatchGetItem
 *   and Query (of one partition, by `begins_with` or `BETWEEN` on the sort key) is answered
 *   from the table as it was at that moment, as a replica that has not caught up would (Scan,
 *   and a Query of another form, pass through).
 *   Strongly consistent reads see the real table. `catchUp()` ends the lag.
 * - `throttle(n)` answers the next n requests with ProvisionedThroughputExceededException
 *   (HTTP 400), which the SDK retries with back-off, as it does in AWS.
 * - `calls` counts the requests that reached the fault layer, by operation and consistency.
 */
export interface FaultyDynamoDb {
  readonly doc: DynamoDBDocumentClient;
  lag(): Promise<void>;
  catchUp(): void;
  throttle(requests: number, operations?: readonly string[]): void;
  readonly calls: { operation: string; consistent: boolean; served: 'table' | 'replica' | 'throttled' }[];
}

type Item = Record<string, AttributeValue>;

export function faultyDynamoDb(endpoint: string, tableName: string, options: { maxAttempts?: number } = {}): FaultyDynamoDb {
  const config = { endpoint, region: 'local', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: options.maxAttempts ?? 3 };
  const doc = createDocumentClient(config);
  const scanner = new DynamoDBClient(config);
  let replica: Map<string, Item> | undefined;
  let throttled = 0;
  let throttledOps: readonly string[] | undefined;
  const calls: FaultyDynamoDb['calls'] = [];
  const keyOf = (key: Item) => `${key.pk?.S}\u0000${key.sk?.S}`;

  const respond = (statusCode: number, body: unknown) => ({
    // An HTTP response as the SDK's node handler makes one: what the deserializer reads.
    response: {
      statusCode,
      headers: { 'content-type': 'application/x-amz-json-1.0', 'x-amzn-requestid': 'fault-injected' },
      // DynamoDB's JSON wire format carries binary attributes (B) as base64.
      body: Readable.from([Buffer.from(JSON.stringify(body, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v)))]),
    },
    output: undefined as never,
  });

  doc.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as { headers: Record<string, string>; body?: unknown };
      const operation = String(request.headers['x-amz-target'] ?? '').replace(/^DynamoDB_\d+\./, '');
      // The SDK's JSON body is bytes (a Uint8Array subclass): read them as bytes, not through its string methods.
      const raw = request.body;
      const body = raw instanceof Uint8Array ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8') : String(raw ?? '{}');
      const input = JSON.parse(body) as Record<string, unknown>;
      const batch = Object.values((input.RequestItems ?? {}) as Record<string, { ConsistentRead?: boolean }>);
      const consistent = operation === 'BatchGetItem' ? batch.every((r) => r.ConsistentRead === true) : input.ConsistentRead === true;
      if (throttled > 0 && (!throttledOps || throttledOps.includes(operation))) {
        throttled--;
        calls.push({ operation, consistent, served: 'throttled' });
        return respond(400, {
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded (injected)',
        });
      }
      if (replica && !consistent && operation === 'GetItem') {
        calls.push({ operation, consistent, served: 'replica' });
        const item = replica.get(keyOf(input.Key as Item));
        return respond(200, item ? { Item: item } : {});
      }
      if (replica && !consistent && operation === 'BatchGetItem') {
        calls.push({ operation, consistent, served: 'replica' });
        const requested = input.RequestItems as Record<string, { Keys: Item[] }>;
        const responses: Record<string, Item[]> = {};
        for (const [table, { Keys }] of Object.entries(requested)) {
          responses[table] = Keys.flatMap((k) => (replica!.has(keyOf(k)) ? [replica!.get(keyOf(k))!] : []));
        }
        return respond(200, { Responses: responses, UnprocessedKeys: {} });
      }
      if (replica && !consistent && operation === 'Query') {
        const answer = replicaQuery(replica, input);
        if (answer) {
          calls.push({ operation, consistent, served: 'replica' });
          return respond(200, answer);
        }
      }
      calls.push({ operation, consistent, served: 'table' });
      return next(args);
    },
    { step: 'deserialize', priority: 'low', name: 'injectDynamoDbFaults' },
  );

  return {
    doc,
    calls,
    async lag() {
      const items = new Map<string, Item>();
      let start: Item | undefined;
      do {
        const out = await scanner.send(new ScanCommand({ TableName: tableName, ConsistentRead: true, ExclusiveStartKey: start }));
        for (const item of out.Items ?? []) items.set(keyOf(item), item);
        start = out.LastEvaluatedKey;
      } while (start);
      replica = items;
    },
    catchUp() {
      replica = undefined;
    },
    throttle(requests, operations) {
      throttled = requests;
      throttledOps = operations;
    },
  };
}

/**
 * replicaQuery answers a Query of one partition from a frozen replica, for the key conditions
 * the store uses (`pk = :pk AND begins_with(sk, :p)`, `pk = :pk AND sk BETWEEN :a AND :b`,
 * `pk = :pk AND sk >= :a`), sorted by sort key, in one page; any other form is not answered.
 */
function replicaQuery(replica: Map<string, Item>, input: Record<string, unknown>): { Items: Item[]; Count: number; ScannedCount: number } | undefined {
  const condition = String(input.KeyConditionExpression ?? '');
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, { S?: string }>;
  const pk = /^pk = (:\w+)/.exec(condition)?.[1];
  if (!pk || input.FilterExpression || input.ExclusiveStartKey) return undefined;
  const prefix = /begins_with\(sk, (:\w+)\)/.exec(condition)?.[1];
  const between = /sk BETWEEN (:\w+) AND (:\w+)/.exec(condition);
  const from = /sk >= (:\w+)/.exec(condition)?.[1];
  if (!prefix && !between && !from) return undefined;
  const inRange = (sk: string) =>
    prefix ? sk.startsWith(values[prefix]!.S!) : between ? sk >= values[between[1]!]!.S! && sk <= values[between[2]!]!.S! : sk >= values[from!]!.S!;
  const items = [...replica.values()]
    .filter((item) => item.pk?.S === values[pk]?.S && inRange(item.sk?.S ?? ''))
    .sort((a, b) => ((a.sk?.S ?? '') < (b.sk?.S ?? '') ? -1 : 1));
  return { Items: items, Count: items.length, ScannedCount: items.length };
}

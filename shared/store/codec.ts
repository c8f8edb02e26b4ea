import { gunzipSync, gzipSync } from 'node:zlib';

/**
 * Rendered resources are stored gzipped: Envoy JSON compresses about 8:1, and DynamoDB
 * charges reads per 4 KB, so a poll that reads one gzipped snapshot costs a fraction of a
 * read unit and a large service stays far below the 400 KB item limit.
 */
export function packJson(value: unknown): Uint8Array {
  return gzipSync(Buffer.from(JSON.stringify(value)), { level: 6 });
}

export function unpackJson<T>(bytes: Uint8Array): T {
  return JSON.parse(gunzipSync(bytes).toString('utf8')) as T;
}

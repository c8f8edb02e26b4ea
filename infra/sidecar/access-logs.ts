import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The Logs Insights queries that answer the common questions from Envoy's JSON access log
 * (shared/render/access-log.ts: one JSON object per request, with `service` and `direction`),
 * saved beside the log group as query definitions so they are one click away in the console.
 * Envoy's own log lines share the group; `ispresent(duration_ms)` keeps access-log lines only.
 */
export const accessLogQueries: Readonly<Record<'slowest-routes' | '5xx-by-dependency' | 'who-calls-whom', logs.QueryStringProps>> = {
  /** Which routes are slowest: p99 and max duration per service, direction, upstream and path. */
  'slowest-routes': {
    fields: ['service', 'direction', 'upstream_cluster', 'method', 'path', 'duration_ms'],
    filterStatements: ['ispresent(duration_ms) and ispresent(method)'],
    statsStatements: ['count(*) as requests, avg(duration_ms) as avg_ms, pct(duration_ms, 99) as p99_ms, max(duration_ms) as max_ms by service, direction, upstream_cluster, method, path'],
    sort: 'p99_ms desc',
    limit: 25,
  },
  /** Which dependencies answer 5xx to which callers, with Envoy's reason (response flags: UO overflow, UH no healthy host, URX retries exhausted). */
  '5xx-by-dependency': {
    fields: ['service', 'upstream_cluster', 'status', 'response_flags'],
    filterStatements: ['direction = "outbound" and status >= 500'],
    statsStatements: ['count(*) as errors by service, upstream_cluster, status, response_flags'],
    sort: 'errors desc',
  },
  /** Who called whom: calls and their time per caller and dependency, from the callers' outbound logs. */
  'who-calls-whom': {
    fields: ['service as caller', 'upstream_cluster as callee', 'duration_ms'],
    filterStatements: ['direction = "outbound" and ispresent(duration_ms)'],
    statsStatements: ['count(*) as calls, avg(duration_ms) as avg_ms, pct(duration_ms, 99) as p99_ms by caller, callee'],
    sort: 'calls desc',
  },
};

/** accessLogQueryText is a query as Logs Insights reads it (and docs/rendering.md shows it). */
export function accessLogQueryText(question: keyof typeof accessLogQueries): string {
  return new logs.QueryString(accessLogQueries[question]).toString();
}

/**
 * addAccessLogQueries saves the access-log queries for one service's log group, named
 * `mesh/<service>/<question>` (a folder per service in the console).
 */
export function addAccessLogQueries(scope: Construct, service: string, logGroup: logs.ILogGroup): logs.QueryDefinition[] {
  return (Object.keys(accessLogQueries) as (keyof typeof accessLogQueries)[]).map(
    (question) =>
      new logs.QueryDefinition(scope, `AccessLogQuery-${question}`, {
        queryDefinitionName: `mesh/${service}/${question}`,
        queryString: new logs.QueryString(accessLogQueries[question]),
        logGroups: [logGroup],
      }),
  );
}

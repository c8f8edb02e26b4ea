/**
 * Access logs: one JSON object per line on the container's stdout, where FireLens or the
 * CloudWatch agent picks it up. The fields are the ones operators query first: who called
 * what, how it ended (status and Envoy's response flags: UO overflow, UH no healthy host,
 * URX retries exhausted...), how long it took, which host served it, and the request id that
 * ties the hops of one call together.
 */

const stdoutAccessLogType = 'type.googleapis.com/envoy.extensions.access_loggers.stream.v3.StdoutAccessLog';

type Direction = 'inbound' | 'outbound';

/** httpAccessLogFields are the JSON fields of one HTTP request's log line, by name. */
export const httpAccessLogFields: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  status: '%RESPONSE_CODE%',
  grpc_status: '%GRPC_STATUS%',
  response_flags: '%RESPONSE_FLAGS%',
  response_code_details: '%RESPONSE_CODE_DETAILS%',
  duration_ms: '%DURATION%',
  upstream_service_time_ms: '%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  request_id: '%REQ(X-REQUEST-ID)%',
  user_agent: '%REQ(USER-AGENT)%',
  authority: '%REQ(:AUTHORITY)%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
};

/** tcpAccessLogFields are the JSON fields of one TCP connection's log line: no request, so no method or status. */
export const tcpAccessLogFields: Readonly<Record<string, string>> = {
  start_time: '%START_TIME%',
  duration_ms: '%DURATION%',
  response_flags: '%RESPONSE_FLAGS%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  upstream_host: '%UPSTREAM_HOST%',
  upstream_cluster: '%UPSTREAM_CLUSTER%',
  upstream_transport_failure_reason: '%UPSTREAM_TRANSPORT_FAILURE_REASON%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  connection_termination_details: '%CONNECTION_TERMINATION_DETAILS%',
};

function stdoutAccessLog(fields: Readonly<Record<string, string>>, service: string, direction: Direction): Record<string, unknown> {
  return {
    name: 'envoy.access_loggers.stdout',
    typed_config: {
      '@type': stdoutAccessLogType,
      // Literal service and direction make one log group queryable across the fleet.
      log_format: { json_format: { ...fields, service, direction } },
    },
  };
}

/** httpAccessLog is the access_log entry of an HTTP connection manager. */
export function httpAccessLog(service: string, direction: Direction): Record<string, unknown> {
  return stdoutAccessLog(httpAccessLogFields, service, direction);
}

/** tcpAccessLog is the access_log entry of a TCP proxy. */
export function tcpAccessLog(service: string, direction: Direction): Record<string, unknown> {
  return stdoutAccessLog(tcpAccessLogFields, service, direction);
}

# envoy-entrypoint: runs Envoy as a mesh sidecar and drains it on SIGTERM (ECS stop, systemd stop).
#
# Settings (environment):
#   MESH_DRAIN_SECONDS    how long to drain after SIGTERM before Envoy is stopped (the service's drainSeconds)
#   ENVOY_ADMIN_PORT      Envoy's admin port on 127.0.0.1
#   ENVOY_CONFIG_PATH     the bootstrap Envoy runs with
#   ENVOY_DRAIN_TIME_S    Envoy's --drain-time-s (how gradually listeners close their connections)
#   MESH_DRAIN_MARKER     a file that exists while draining: the health check fails when it does
#   ENVOY_BOOTSTRAP       (ECS) the bootstrap with the node id and zone placeholders; written to
#                         ENVOY_CONFIG_PATH with this task's id and zone from the task metadata v4
#   MESH_NODE_ID_PLACEHOLDER, MESH_ZONE_PLACEHOLDER, MESH_REVISION_PLACEHOLDER  the placeholders to
#                         replace (the revision is the task definition's: the stats' mesh_revision tag)
#   ENVOY_COMMAND         the command that runs Envoy (default: envoy); its arguments follow
#   ENVOY_LOG_LEVEL       (optional) Envoy's --log-level, as App Mesh's image read it
#
# Only bash: the official Envoy image has no curl, so HTTP goes through bash's /dev/tcp.
set -euo pipefail

# admin_request METHOD PATH: prints the status line of Envoy's admin answer.
admin_request() {
  exec 4<>"/dev/tcp/127.0.0.1/$ENVOY_ADMIN_PORT" || return 1
  printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n' "$1" "$2" >&4
  head -n1 <&4 || true
  exec 4<&-
}

# write_bootstrap_from_task_metadata: the node id is the task id (the ARN's last segment).
write_bootstrap_from_task_metadata() {
  local meta authority host port task task_arn zone revision
  meta="${ECS_CONTAINER_METADATA_URI_V4#http://}"
  authority="${meta%%/*}"
  host="${authority%%:*}"
  port=80
  [ "$host" = "$authority" ] || port="${authority##*:}"
  exec 3<>"/dev/tcp/$host/$port"
  printf "GET /%s/task HTTP/1.0\r\nHost: %s\r\n\r\n" "${meta#*/}" "$authority" >&3
  task=$(cat <&3)
  exec 3<&-
  task_arn=$(printf '%s' "$task" | grep -o '"TaskARN":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)
  zone=$(printf '%s' "$task" | grep -o '"AvailabilityZone":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)
  revision=$(printf '%s' "$task" | grep -o '"Revision":"[^"]*"' | head -n1 | cut -d'"' -f4 || true)
  test -n "$task_arn" || { echo "no TaskARN in the task metadata" >&2; exit 1; }
  printf '%s' "$ENVOY_BOOTSTRAP" |
    sed -e "s|$MESH_NODE_ID_PLACEHOLDER|${task_arn##*/}|g" -e "s|$MESH_ZONE_PLACEHOLDER|$zone|g" \
      -e "s|${MESH_REVISION_PLACEHOLDER:-__MESH_REVISION__}|$revision|g" > "$ENVOY_CONFIG_PATH"
}

if [ -n "${ENVOY_BOOTSTRAP:-}" ]; then write_bootstrap_from_task_metadata; fi
rm -f "$MESH_DRAIN_MARKER"

# drain: stop taking new work, let what is in flight finish, then stop Envoy.
drain() {
  trap '' TERM INT
  echo "envoy-entrypoint: stopping: failing health checks, draining listeners for $MESH_DRAIN_SECONDS s" >&2
  : > "$MESH_DRAIN_MARKER"
  admin_request POST /healthcheck/fail >/dev/null 2>&1 || echo "envoy-entrypoint: POST /healthcheck/fail failed" >&2
  admin_request POST '/drain_listeners?graceful' >/dev/null 2>&1 || echo "envoy-entrypoint: POST /drain_listeners failed" >&2
  # Wait the drain period, or less if Envoy is gone already. Whole seconds and no `wait -n`:
  # Amazon Linux 2's bash is 4.2.
  local waited=0
  while [ "$waited" -lt "$MESH_DRAIN_SECONDS" ] && kill -0 "$envoy_pid" 2>/dev/null; do
    sleep 1
    waited=$((waited + 1))
  done
  echo "envoy-entrypoint: drained, stopping Envoy" >&2
  kill -TERM "$envoy_pid" 2>/dev/null || true
  local status=0
  wait "$envoy_pid" || status=$?
  exit "$status"
}

${ENVOY_COMMAND:-envoy} -c "$ENVOY_CONFIG_PATH" --drain-time-s "$ENVOY_DRAIN_TIME_S" ${ENVOY_LOG_LEVEL:+--log-level "$ENVOY_LOG_LEVEL"} &
envoy_pid=$!
trap drain TERM INT
status=0
wait "$envoy_pid" || status=$?
# wait returns early (over 128) when a trapped signal arrives; drain then exits the script.
exit "$status"

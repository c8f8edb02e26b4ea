# envoy-health: healthy only when Envoy has configuration from the control plane and is not draining.
# Exit 0 when the node is not draining (MESH_DRAIN_MARKER absent), Envoy's admin /ready answers 200
# (LIVE), and both the CDS and the LDS subscription have applied at least one update (their
# update_success counters, which count only accepted updates). /ready alone turns 200 once the
# initial fetch times out, even if every poll was refused. Only bash: the image has no curl.
test ! -e "$MESH_DRAIN_MARKER" || exit 1
admin_get() {
  exec 3<>"/dev/tcp/127.0.0.1/$ENVOY_ADMIN_PORT" || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$1" >&3
  cat <&3
  exec 3<&-
}
ready=$(admin_get /ready) || exit 1
[[ "${ready%%$'\r'*}" == *" 200"* ]] || exit 1
stats=$(admin_get '/stats?filter=update_success') || exit 1
grep -Eq '^cluster_manager\.cds\.update_success: [1-9]' <<<"$stats" || exit 1
grep -Eq '^listener_manager\.lds\.update_success: [1-9]' <<<"$stats" || exit 1

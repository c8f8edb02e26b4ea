# mesh-redirect: sends a host's TCP through its Envoy sidecar with the nat table of iptables,
# as App Mesh's proxy configuration did (transparent mode, shared/model/spec-interception.ts).
#
# Usage: mesh-redirect install | remove | status
#   install  (re)creates the rules: outbound TCP of every process but Envoy's to a non-local
#            address goes to Envoy's egress port; TCP arriving from elsewhere at an app port
#            goes to Envoy's ingress port. Idempotent: it removes what it finds first.
#   remove   deletes every rule and chain install made; nothing else. Idempotent.
#   status   prints the rules; exits 1 when they are not installed.
#
# Settings (environment):
#   MESH_IGNORED_UID           the UID Envoy runs as: its own connections are never redirected (required)
#   MESH_IGNORED_GID           (optional) a GID whose connections are never redirected either
#   MESH_EGRESS_PORT           Envoy's egress listener (127.0.0.1)
#   MESH_INGRESS_PORT          Envoy's inbound listener; empty: inbound traffic is left alone
#   MESH_APP_PORTS             comma-separated ports of the payload whose inbound traffic goes to Envoy
#   MESH_EGRESS_IGNORED_IPS    comma-separated addresses or CIDR blocks never redirected (IMDS, ECS metadata)
#   MESH_EGRESS_IGNORED_PORTS  comma-separated destination ports never redirected
#   MESH_IPTABLES              the iptables command (default: iptables; nft-backed or legacy alike)
#
# Only IPv4: IPv6 connections are not redirected.
set -Eeuo pipefail

EGRESS_CHAIN=MESH_EGRESS
INGRESS_CHAIN=MESH_INGRESS

ipt() { "${MESH_IPTABLES:-iptables}" -w 10 -t nat "$@"; }

# The jumps into our chains, exactly as install adds them (remove deletes these and only these).
egress_jump=(OUTPUT -p tcp -m addrtype ! --dst-type LOCAL -j "$EGRESS_CHAIN")
ingress_jump=(PREROUTING -p tcp -m addrtype ! --src-type LOCAL -j "$INGRESS_CHAIN")

fail() {
  echo "mesh-redirect: $*" >&2
  exit 2
}

# check_ports NAME VALUE: VALUE is empty or a comma-separated list of ports.
check_ports() {
  [[ -z "$2" || "$2" =~ ^[0-9]{1,5}(,[0-9]{1,5})*$ ]] || fail "$1 must be comma-separated ports (got '$2')"
}

# port_chunks LIST: prints LIST in comma-separated chunks of at most 15 ports, the multiport match's limit.
port_chunks() {
  local -a ports
  local i
  IFS=, read -r -a ports <<<"$1"
  for ((i = 0; i < ${#ports[@]}; i += 15)); do
    (
      IFS=,
      echo "${ports[*]:i:15}"
    )
  done
}

chain_exists() { ipt -S "$1" >/dev/null 2>&1; }

remove() {
  while ipt -C "${egress_jump[@]}" 2>/dev/null; do ipt -D "${egress_jump[@]}"; done
  while ipt -C "${ingress_jump[@]}" 2>/dev/null; do ipt -D "${ingress_jump[@]}"; done
  local chain
  for chain in "$EGRESS_CHAIN" "$INGRESS_CHAIN"; do
    if chain_exists "$chain"; then
      ipt -F "$chain"
      ipt -X "$chain"
    fi
  done
}

install() {
  [[ "${MESH_IGNORED_UID:-}" =~ ^[0-9]+$ ]] || fail "MESH_IGNORED_UID must be Envoy's numeric UID (got '${MESH_IGNORED_UID:-}')"
  [[ -z "${MESH_IGNORED_GID:-}" || "$MESH_IGNORED_GID" =~ ^[0-9]+$ ]] || fail "MESH_IGNORED_GID must be numeric (got '$MESH_IGNORED_GID')"
  [[ "${MESH_EGRESS_PORT:-}" =~ ^[0-9]{1,5}$ ]] || fail "MESH_EGRESS_PORT must be a port (got '${MESH_EGRESS_PORT:-}')"
  [[ -z "${MESH_INGRESS_PORT:-}" || "$MESH_INGRESS_PORT" =~ ^[0-9]{1,5}$ ]] || fail "MESH_INGRESS_PORT must be a port (got '$MESH_INGRESS_PORT')"
  check_ports MESH_APP_PORTS "${MESH_APP_PORTS:-}"
  check_ports MESH_EGRESS_IGNORED_PORTS "${MESH_EGRESS_IGNORED_PORTS:-}"
  [[ "${MESH_EGRESS_IGNORED_IPS:-}" =~ ^[0-9./,]*$ ]] || fail "MESH_EGRESS_IGNORED_IPS must be comma-separated IPv4 addresses or CIDR blocks"

  remove
  # A failure half-way leaves nothing behind: a host either redirects as declared or not at all.
  trap 'echo "mesh-redirect: install failed; removing what it added" >&2; trap - ERR; remove; exit 1' ERR

  ipt -N "$EGRESS_CHAIN"
  ipt -A "$EGRESS_CHAIN" -m owner --uid-owner "$MESH_IGNORED_UID" -j RETURN
  if [ -n "${MESH_IGNORED_GID:-}" ]; then ipt -A "$EGRESS_CHAIN" -m owner --gid-owner "$MESH_IGNORED_GID" -j RETURN; fi
  local chunk ip
  while read -r chunk; do
    [ -z "$chunk" ] || ipt -A "$EGRESS_CHAIN" -p tcp -m multiport --dports "$chunk" -j RETURN
  done < <(port_chunks "${MESH_EGRESS_IGNORED_PORTS:-}")
  for ip in ${MESH_EGRESS_IGNORED_IPS//,/ }; do ipt -A "$EGRESS_CHAIN" -d "$ip" -j RETURN; done
  ipt -A "$EGRESS_CHAIN" -p tcp -j REDIRECT --to-ports "$MESH_EGRESS_PORT"
  ipt -A "${egress_jump[@]}"

  if [ -n "${MESH_INGRESS_PORT:-}" ] && [ -n "${MESH_APP_PORTS:-}" ]; then
    ipt -N "$INGRESS_CHAIN"
    while read -r chunk; do
      [ -z "$chunk" ] || ipt -A "$INGRESS_CHAIN" -p tcp -m multiport --dports "$chunk" -j REDIRECT --to-ports "$MESH_INGRESS_PORT"
    done < <(port_chunks "$MESH_APP_PORTS")
    ipt -A "${ingress_jump[@]}"
  fi
  trap - ERR
}

status() {
  local found=1 chain
  for chain in "$EGRESS_CHAIN" "$INGRESS_CHAIN"; do
    if chain_exists "$chain"; then
      ipt -S "$chain"
      found=0
    fi
  done
  return "$found"
}

case "${1:-}" in
  install) install ;;
  remove) remove ;;
  status) status ;;
  *) fail "usage: mesh-redirect install | remove | status" ;;
esac

#!/usr/bin/env bash
# The veth testbed: two network namespaces joined by a veth pair. The sender
# lives in the tx namespace, xicept and the receiver in the rx namespace; no
# traffic leaves them. Addresses: 10.199.0.1/30 (tx) and 10.199.0.2/30 (rx),
# fd00:199::1/64 and fd00:199::2/64.
#
# Every name carries an id (default: the caller's pid), so concurrent runs
# never collide, not even in bpffs, where pins are keyed by interface name.
#
# As a command:
#   scripts/testbed.sh up [ID]              create; prints the names to eval
#   scripts/testbed.sh down [ID]            remove namespaces, links, XDP, pins
#   scripts/testbed.sh exec ID tx|rx CMD... run CMD in a namespace
# As a library (what the integration tests and the demo do):
#   source scripts/testbed.sh; tb_up; tb_rx xicept attach "$TB_RX_IF"; tb_down
#
# tb_rx/tb_tx enter only the network namespace (nsenter --net), not a new
# mount namespace as `ip netns exec` does: that would hide the host's bpffs
# at /sys/fs/bpf, and xicept's pins must outlive each invocation.

TB_PIN_ROOT=${TB_PIN_ROOT:-/sys/fs/bpf/xicept}

tb_names() {
  TB_ID=${1:-${TB_ID:-$$}}
  TB_TX_NS=xi-tx-$TB_ID
  TB_RX_NS=xi-rx-$TB_ID
  # Interface names must fit IFNAMSIZ (15 characters).
  TB_TX_IF=xit$TB_ID
  TB_RX_IF=xir$TB_ID
  TB_TX_IP=10.199.0.1
  TB_RX_IP=10.199.0.2
  TB_TX_IP6=fd00:199::1
  TB_RX_IP6=fd00:199::2
  if [ ${#TB_RX_IF} -gt 15 ]; then
    echo "testbed: id '$TB_ID' makes interface names too long" >&2
    return 1
  fi
}

tb_tx() { nsenter --net="/run/netns/$TB_TX_NS" -- "$@"; }
tb_rx() { nsenter --net="/run/netns/$TB_RX_NS" -- "$@"; }

tb_mac() { "tb_$1" ip -br link show "$2" | awk '{print $3}'; }

tb_up() {
  tb_names "${1:-}" || return 1
  if [ "$(id -u)" -ne 0 ]; then
    echo "testbed: must run as root" >&2
    return 1
  fi
  # bpffs must be mounted once, on the host, for pins to be shared.
  mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf || return 1
  # TB_QUEUES=N: N transmit and receive queues on both ends (veth's default: 1).
  local q=()
  [ -z "${TB_QUEUES:-}" ] || q=(numtxqueues "$TB_QUEUES" numrxqueues "$TB_QUEUES")
  ip netns add "$TB_TX_NS" || return 1
  ip netns add "$TB_RX_NS" || { tb_down; return 1; }
  {
    ip link add "$TB_TX_IF" netns "$TB_TX_NS" "${q[@]}" type veth peer name "$TB_RX_IF" \
      netns "$TB_RX_NS" "${q[@]}" &&
    tb_tx ip link set lo up && tb_rx ip link set lo up &&
    tb_tx ip addr add "$TB_TX_IP/30" dev "$TB_TX_IF" &&
    tb_rx ip addr add "$TB_RX_IP/30" dev "$TB_RX_IF" &&
    tb_tx ip -6 addr add "$TB_TX_IP6/64" dev "$TB_TX_IF" nodad &&
    tb_rx ip -6 addr add "$TB_RX_IP6/64" dev "$TB_RX_IF" nodad &&
    tb_tx ip link set "$TB_TX_IF" up && tb_rx ip link set "$TB_RX_IF" up &&
    # Static neighbours: no ARP or ND packets among the counted ones.
    tb_tx ip neigh replace "$TB_RX_IP" lladdr "$(tb_mac rx "$TB_RX_IF")" dev "$TB_TX_IF" nud permanent &&
    tb_rx ip neigh replace "$TB_TX_IP" lladdr "$(tb_mac tx "$TB_TX_IF")" dev "$TB_RX_IF" nud permanent
  } || { echo "testbed: setup failed" >&2; tb_down; return 1; }
}

# Removes everything tb_up made and anything xicept pinned for the rx
# interface. Safe to call twice, and on a half-built testbed.
tb_down() {
  [ -n "${TB_ID:-}" ] || return 0
  if [ -e "/run/netns/$TB_RX_NS" ]; then
    ip -n "$TB_RX_NS" link set dev "$TB_RX_IF" xdp off 2>/dev/null
    ip -n "$TB_RX_NS" link set dev "$TB_RX_IF" xdpgeneric off 2>/dev/null
  fi
  rm -rf "${TB_PIN_ROOT:?}/$TB_RX_IF" "${TB_PIN_ROOT:?}/$TB_TX_IF" 2>/dev/null
  ip netns del "$TB_TX_NS" 2>/dev/null
  ip netns del "$TB_RX_NS" 2>/dev/null
  return 0
}

tb_main() {
  local cmd=${1:-}
  shift || true
  case $cmd in
    up)
      tb_up "${1:-}" || exit 1
      echo "TB_ID=$TB_ID TB_TX_NS=$TB_TX_NS TB_RX_NS=$TB_RX_NS TB_TX_IF=$TB_TX_IF TB_RX_IF=$TB_RX_IF TB_TX_IP=$TB_TX_IP TB_RX_IP=$TB_RX_IP"
      ;;
    down)
      tb_names "${1:-}" && tb_down
      ;;
    exec)
      [ $# -ge 3 ] || { echo "usage: testbed.sh exec ID tx|rx CMD..." >&2; exit 2; }
      tb_names "$1" || exit 1
      case $2 in
        tx) shift 2; tb_tx "$@" ;;
        rx) shift 2; tb_rx "$@" ;;
        *) echo "testbed: expected tx or rx, not '$2'" >&2; exit 2 ;;
      esac
      ;;
    *)
      echo "usage: testbed.sh up [ID] | down [ID] | exec ID tx|rx CMD..." >&2
      exit 2
      ;;
  esac
}

# Run as a command unless sourced.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  tb_main "$@"
fi

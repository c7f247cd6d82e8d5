#!/usr/bin/env bash
# make demo: a veth testbed, a chain attached in XDP, ~5 s of real VP8 RTP
# from ffmpeg plus a foreign SSRC the chain drops, live per-SSRC stats, then
# everything torn down again, whatever happens on the way.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
XICEPT=$ROOT/build/xicept
SINK=$ROOT/build/tools/xi-rtp-sink
SEND=$ROOT/build/tools/xi-rtp-send
SECONDS_OF_MEDIA=${DEMO_SECONDS:-5}
PIDS=()

for bin in "$XICEPT" "$SINK" "$SEND"; do
  [ -x "$bin" ] || { echo "demo: $bin is missing; run 'make demo' (it builds first)" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "demo: must run as root (XDP and network namespaces)" >&2; exit 1; }

# shellcheck source=testbed.sh
source "$ROOT/scripts/testbed.sh"

cleanup() {
  trap - EXIT INT TERM
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${TB_ID:-}" ]; then
    tb_rx "$XICEPT" detach "$TB_RX_IF" >/dev/null 2>&1 || true
    tb_down
    echo "== torn down: namespaces, veth pair, XDP programs and pins removed"
  fi
  rm -f "${SINK_OUT:-}"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n== %s\n' "$*"; }
xi() {
  local shown=() a
  for a in "$@"; do
    if [[ $a == *[\ \!]* ]]; then shown+=("'$a'"); else shown+=("$a"); fi
  done
  echo "\$ xicept ${shown[*]}"
  tb_rx "$XICEPT" "$@"
}

tb_up "d$$"
step "testbed: $TB_TX_NS ($TB_TX_IF $TB_TX_IP) <-> $TB_RX_NS ($TB_RX_IF $TB_RX_IP)"

step "attach xicept to $TB_RX_IF and add a connection"
xi attach "$TB_RX_IF" --mode native --policy pass
xi conn add "$TB_RX_IF" --local "$TB_RX_IP:5004" \
  --chain 'ssrc-filter mode=allow ssrc=0x1234 ! header-stats' --stream 0x1234:96:90000
xi status

step "stream ${SECONDS_OF_MEDIA} s of VP8 (SSRC 0x1234, ffmpeg) and a foreign SSRC 0xbad to $TB_RX_IP:5004"
SINK_OUT=$(mktemp /tmp/xi-demo-sink.XXXXXX)
nsenter --net="/run/netns/$TB_RX_NS" -- "$SINK" --bind "$TB_RX_IP:5004" --idle 1 --duration 60 >"$SINK_OUT" &
PIDS+=($!)
sink_pid=$!
# nsenter execs its command, so each pid below is the program itself.
nsenter --net="/run/netns/$TB_TX_NS" -- ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi \
  -i "testsrc=size=320x240:rate=30" -t "$SECONDS_OF_MEDIA" -c:v libvpx -b:v 500k \
  -deadline realtime -ssrc 0x1234 -f rtp "rtp://$TB_RX_IP:5004" >/dev/null &
PIDS+=($!)
nsenter --net="/run/netns/$TB_TX_NS" -- "$SEND" --to "$TB_RX_IP:5004" --ssrc 0xbad --rate 50 \
  --count $((50 * SECONDS_OF_MEDIA)) --from-port 7000 >/dev/null &
PIDS+=($!)

sleep 0.5
step "live stats, refreshed every second (xicept stats --watch 1)"
tb_rx timeout -s INT $((SECONDS_OF_MEDIA + 1)) "$XICEPT" stats "$TB_RX_IF" --watch 1 || true

wait "$sink_pid" || true
step "final summary (xicept stats --json)"
tb_rx "$XICEPT" stats "$TB_RX_IF" --json | jq '{connections: [.connections[] | {id, chain,
  ssrcs: [.ssrcs[] | {ssrc, packets, bytes, lost, ext_highest_seq, jitter, dropped}]}],
  reasons: (.reasons | with_entries(select(.value > 0)))}' 2>/dev/null ||
  tb_rx "$XICEPT" stats "$TB_RX_IF" --json
step "what the receiving socket counted (xi-rtp-sink)"
jq -c '.ssrcs[] | {ssrc, packets, bytes}' "$SINK_OUT"

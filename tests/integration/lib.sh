# shellcheck shell=bash
# Sourced by every tests/integration/tNN_*.sh. Builds a private veth testbed
# (scripts/testbed.sh) and removes it, with every XDP attachment and pin, on
# every way out: success, failure, error or signal.
#
# Conventions: xicept and the receiver run in the rx namespace ($TB_RX_IF,
# $TB_RX_IP), senders in the tx namespace. Helpers fail the test with one
# line naming what differed.

set -uo pipefail

T_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T_NAME=$(basename "$0" .sh)
T_BUILD=${BUILD:-build}; [[ $T_BUILD == /* ]] || T_BUILD=$T_ROOT/$T_BUILD
XICEPT=${XICEPT:-$T_BUILD/xicept}   # override to test another build, e.g. an ASan one
SINK=$T_BUILD/tools/xi-rtp-sink
SEND=$T_BUILD/tools/xi-rtp-send
T_PIDS=()
T_EXTRA_PINS=()   # pin directories a test may create beside $TB_RX_IF's
T_TMP=
T_CHECKS=0

# shellcheck source=../../scripts/testbed.sh
source "$T_ROOT/scripts/testbed.sh"

t_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  # A backgrounded function is a subshell: end its children too, by id.
  for pid in "${T_PIDS[@]}"; do
    # shellcheck disable=SC2046  # the list of child ids is meant to split
    kill $(cat "/proc/$pid/task/$pid/children" 2>/dev/null) "$pid" 2>/dev/null
  done
  for pid in "${T_PIDS[@]}"; do
    wait "$pid" 2>/dev/null
  done
  if [ -n "${TB_ID:-}" ] && [ -e "$TB_PIN_ROOT/$TB_RX_IF" ]; then
    tb_rx "$XICEPT" detach "$TB_RX_IF" >/dev/null 2>&1
  fi
  for dir in "${T_EXTRA_PINS[@]}"; do
    [ -e "$TB_PIN_ROOT/$dir" ] && tb_rx "$XICEPT" detach "$dir" >/dev/null 2>&1
    rm -rf "${TB_PIN_ROOT:?}/$dir"
  done
  [ -n "${TB_ID:-}" ] && tb_down
  [ -n "$T_TMP" ] && rm -rf "$T_TMP"
  if [ "$rc" -eq 0 ]; then
    echo "PASS $T_NAME ($T_CHECKS checks)"
  else
    echo "FAIL $T_NAME (exit $rc)" >&2
  fi
  exit "$rc"
}
trap t_cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "FAIL [$T_NAME] $*" >&2
  exit 1
}

t_ok() { T_CHECKS=$((T_CHECKS + 1)); }

expect_eq() {   # ACTUAL EXPECTED WHAT
  [ "$1" == "$2" ] || fail "$3: expected '$2', got '$1'"
  t_ok
}

expect_match() {   # TEXT REGEX WHAT
  [[ $1 =~ $2 ]] || fail "$3: '$1' does not match /$2/"
  t_ok
}

# Runs a command, keeping its status, stdout and stderr in T_RC, T_OUT, T_ERR.
t_run() {
  T_OUT=$("$@" 2>"$T_TMP/stderr")
  T_RC=$?
  T_ERR=$(cat "$T_TMP/stderr")
}

# expect_error STATUS REGEX CMD...: CMD must exit with STATUS and print to
# stderr exactly one line (two for usage errors: the problem and a hint),
# starting "xicept: " and matching REGEX; nothing on stdout.
expect_error() {
  local status=$1 re=$2
  shift 2
  t_run "$@"
  [ "$T_RC" -eq "$status" ] || fail "'$*': exit $T_RC, expected $status (stderr: $T_ERR)"
  [ -z "$T_OUT" ] || fail "'$*': printed to stdout on error: $T_OUT"
  local lines
  lines=$(printf '%s\n' "$T_ERR" | wc -l)
  if [ "$status" -eq 2 ]; then
    [ "$lines" -eq 2 ] || fail "'$*': expected the problem and a hint, got: $T_ERR"
  else
    [ "$lines" -eq 1 ] || fail "'$*': expected one line, got: $T_ERR"
  fi
  [[ $T_ERR == "xicept: "* ]] || fail "'$*': error does not start with 'xicept: ': $T_ERR"
  [[ $T_ERR =~ $re ]] || fail "'$*': error '$T_ERR' does not match /$re/"
  t_ok
}

xi() { tb_rx "$XICEPT" "$@"; }

# GStreamer scans every plugin the first time it runs on a machine, which on
# a fresh one takes longer than a test's timeout: scan them once, untimed,
# and check that the elements a test names are there.
gst_ready() {   # ELEMENT...
  local el
  for el in "$@"; do
    gst-inspect-1.0 "$el" >/dev/null 2>&1 || fail "GStreamer has no element '$el' (scripts/deps.sh installs its plugins)"
  done
}

t_setup() {
  [ "$(id -u)" -eq 0 ] || fail "integration tests need root"
  for bin in "$XICEPT" "$SINK" "$SEND"; do
    [ -x "$bin" ] || fail "$bin is missing: run 'make all tools' first"
  done
  T_TMP=$(mktemp -d "/tmp/xi-$T_NAME.XXXXXX")
  tb_up || fail "cannot create the testbed"
}

# sink_start PORT [ARGS]: an xi-rtp-sink on $TB_RX_IP:PORT, ready on return.
sink_start() {
  local port=$1
  shift
  rm -f "$T_TMP/ready-$port"
  # nsenter execs the sink, so $! is the sink itself.
  nsenter --net="/run/netns/$TB_RX_NS" -- "$SINK" --bind "$TB_RX_IP:$port" \
    --ready "$T_TMP/ready-$port" "$@" >"$T_TMP/sink-$port.json" 2>"$T_TMP/sink-$port.err" &
  SINK_PID=$!
  T_PIDS+=("$SINK_PID")
  for _ in $(seq 100); do
    [ -e "$T_TMP/ready-$port" ] && return 0
    kill -0 "$SINK_PID" 2>/dev/null || break
    sleep 0.05
  done
  fail "xi-rtp-sink on port $port did not start: $(cat "$T_TMP/sink-$port.err")"
}

# sink_wait PORT: waits for the sink to go idle; its JSON is in $T_TMP/sink-PORT.json.
sink_wait() {
  wait "$SINK_PID" || fail "xi-rtp-sink on port $1 failed: $(cat "$T_TMP/sink-$1.err")"
  jq -e . "$T_TMP/sink-$1.json" >/dev/null || fail "xi-rtp-sink printed no JSON"
  expect_eq "$(jq .socket_drops "$T_TMP/sink-$1.json")" 0 "datagrams the sink's socket dropped"
}

# sink_get PORT SSRC FIELD: one per-SSRC count of the sink, 0 when absent.
sink_get() {
  jq --argjson s "$2" "[.ssrcs[] | select(.ssrc == \$s) | .$3] | first // 0" "$T_TMP/sink-$1.json"
}

# ffmpeg_vp8 SSRC PORT SECONDS [SRCPORT]: real VP8 RTP from the tx namespace.
ffmpeg_vp8() {
  local url="rtp://$TB_RX_IP:$2"
  [ -n "${4:-}" ] && url="$url?localport=$4"
  tb_tx ffmpeg -nostdin -hide_banner -loglevel error -re -f lavfi \
    -i "testsrc=size=320x240:rate=30" -t "$3" -c:v libvpx -b:v 500k -deadline realtime \
    -ssrc "$1" -f rtp "$url" >/dev/null || fail "ffmpeg failed"
}

# stats_get CONN SSRC FIELD: a per-SSRC counter from 'xicept stats --json'.
stats_get() {
  xi stats "$TB_RX_IF" --json >"$T_TMP/stats.json" || fail "xicept stats failed"
  jq --argjson c "$1" --argjson s "$2" \
    "[.connections[] | select(.id == \$c) | .ssrcs[] | select(.ssrc == \$s) | .$3] | first // 0" \
    "$T_TMP/stats.json"
}

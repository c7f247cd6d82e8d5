#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make bench-user: xicept's userspace chain "nack-generator ! receiver-report"
# against pion/interceptor's GeneratorInterceptor + ReceiverInterceptor doing
# the same work (N synthetic RTP packets of one SSRC, 1 % lost), in one run.
#
#   bench-user.sh BUILD/bin/tests/user/bench_user
#
# Env: BENCH_N (packets, default 1000000), BENCH_REPEATS (default 5).
# Prints wall and process-CPU ns per packet (min/median/max wall, median
# CPU) and the work checks of both sides.
# Builds the Go side offline (GOPATH mode over Debian's /usr/share/gocode)
# into BUILD/bench/pion-bench. Exits non-zero when either side fails a work
# check (see the two programs for what is checked).
set -euo pipefail

XI_BIN=${1:?usage: bench-user.sh path/to/bench_user}
BUILD=${XI_BIN%/bin/tests/user/bench_user}
[[ $BUILD != "$XI_BIN" ]] || BUILD=build
mkdir -p "$BUILD/bench"
BUILD=$(realpath "$BUILD")
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
N=${BENCH_N:-1000000}
REPEATS=${BENCH_REPEATS:-5}

# pion ticks on wall time. At its ~3000 packets per ms, 1 ms makes both of
# its interceptors write about every 3000 packets, as bench_user's 100 s of
# synthetic time (33.3 ms a packet) does; the result lines count what each
# side wrote. NACK log 16384 on both: it must span a tick on pion's side, and
# pion 0.1.12's maximum, 32768, never NACKs once its log is full.
PION_ARGS=(-nack-size 16384 -nack-interval 1ms -rr-interval 1ms)

PION_BIN=$BUILD/bench/pion-bench
build_pion() {
	local src=$HERE/pion
	if [[ -x $PION_BIN && ! $src/main.go -nt $PION_BIN ]]; then
		return
	fi
	command -v go >/dev/null || { echo "bench-user: go not found (apt install golang-go)" >&2; exit 1; }
	[[ -d /usr/share/gocode/src/github.com/pion/interceptor ]] ||
		{ echo "bench-user: apt install golang-github-pion-interceptor-dev" >&2; exit 1; }
	echo "bench-user: building $PION_BIN"
	(cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
		GOCACHE=$BUILD/bench/gocache go build -o "$PION_BIN" .)
}
build_pion

# key=value of one "result" line
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

rc=0
echo "bench-user: $N packets (1 % lost), $REPEATS timed repeats each after a warm-up, $(nproc) cores"
xi_out=$("$XI_BIN" -n "$N" -r "$REPEATS") || rc=1
pion_out=$("$PION_BIN" -n "$N" -repeats "$REPEATS" "${PION_ARGS[@]}") || rc=1
xi=$(grep '^result ' <<<"$xi_out" || true)
pion=$(grep '^result ' <<<"$pion_out" || true)
if [[ -z $xi || -z $pion ]]; then
	echo "bench-user: FAIL: a side printed no result" >&2
	exit 1
fi

xi_med=$(field "$xi" median)
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
xi_cpu=$(field "$xi" cpu_median)
fmt='%-7s %10s %8s %8s %9s %9s %9s  %-16s  %-19s  %-14s %-8s %-8s %s\n'
printf "\n$fmt" side "ns/pkt min" median max "x xicept" "cpu ns" "x xicept" "read (want)" \
	"RR cum lost (want)" "NACKed (lost)" RRs NACKs checks
for line in "$xi" "$pion"; do
	printf "$fmt" "$(field "$line" side)" "$(field "$line" min)" "$(field "$line" median)" \
		"$(field "$line" max)" "$(ratio "$(field "$line" median)" "$xi_med")" \
		"$(field "$line" cpu_median)" "$(ratio "$(field "$line" cpu_median)" "$xi_cpu")" \
		"$(field "$line" read) ($(field "$line" want_read))" \
		"$(field "$line" rr_cum_lost) ($(field "$line" want_lost))" \
		"$(field "$line" nacked) ($(field "$line" want_lost))" \
		"$(field "$line" rr)" "$(field "$line" nacks)" "$(field "$line" checks)"
	[[ $(field "$line" checks) == ok ]] || rc=1
done
cat <<EOF

pion/xicept, median ns per packet: $(ratio "$(field "$pion" median)" "$xi_med") wall, $(ratio "$(field "$pion" cpu_median)" "$xi_cpu") CPU
(ns/pkt: wall time of the reading loop; cpu ns: the median of the process's
CPU time over the same loop, every thread, so pion's ticker goroutines and
garbage collector count; ranges are min..max over the timed repeats; NACKed
is the fewest)

Checked on both sides, every repeat: all packets read through; the last RR
(decoded with xi_rtcp_report_block, and with pion's rtcp package) names the
last packet as its extended highest sequence number; NACKs ask for no packet
that arrived. xicept, exactly: cumulative lost == the known loss, and every
lost packet NACKed.
pion 0.1.12 runs its timers on wall time in goroutines, so two things can
only be exact in a paced run:
- its RR counts losses inside a 128-packet window per report, so with ~3000
  packets between ticks its total is off (range above, not checked);
- a lost packet gets NACKed only if a tick comes within 16384 packets (the
  log); those in view of a tick must all be NACKed (checked), the ones a late
  tick skipped are counted: $(field "$pion" missed) over all repeats (fail above a tenth).
Paced run, a report every 50 packets: $(field "$pion" paced_n) packets, cumulative lost
$(field "$pion" paced_lost) (want $(field "$pion" paced_want)), every lost packet NACKed: checked.
xicept polls in the reading thread every 20 ms of synthetic time (33.3 ms a
packet), so its wall time includes building and writing the RTCP; pion's
tickers and RTCP writes run in other goroutines, so only cpu ns counts them.
pion's time varies between runs far more than xicept's (seen: 340 to 550).
EOF
if ((rc)); then
	echo "bench-user: FAIL" >&2
fi
exit $rc

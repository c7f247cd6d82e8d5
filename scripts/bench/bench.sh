#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# make bench: every figure of issue 13 in one run, on a veth testbed of its
# own, written to bench/results/latest.{csv,md,png}.
#
#   BUILD=build bash scripts/bench/bench.sh
#
# Env: BENCH_REPEATS (timed runs per point, default 5, at least 3),
# BENCH_TAP_RATE (Mpps offered to the tap-chain row, default 1),
# BENCH_N_DROP / BENCH_N_PASS (frames per run of the XDP_DROP and the
# socket scenarios, default 4,000,000 / 1,000,000), BENCH_OUT (default
# bench/results), BENCH_ONLY (an extended regex: only the rows it matches,
# and the phases conns-install, conns-1, testrun, tap-record, userspace,
# deliver, srtp; for work on a few rows, with their baselines named too),
# BENCH_GEN_MODE (xi-gen --mode: auto, the default, live or xsk),
# BENCH_RPS (a hex CPU mask for RPS on the rx veth; default none),
# BENCH_PACE_CHUNK (frames per chunk of a paced run, default 256),
# BENCH_TAP_CHUNK (the same for tap-chain and xdp-limit-pass-paced, default 4096).
#
# How: xi-gen (scripts/bench/xi_gen.c, gen.bpf.c) sends RTP with
# BPF_PROG_TEST_RUN in live-frames mode out of the tx veth, or where the
# kernel refuses live frames with AF_XDP TX (copy mode) the same frames,
# pinned to CPU 0 (paced with --rate for the rows of `xicept run`); the
# report says which mode ran, since their rates differ;
# the rx veth runs the program under test in native mode, in the sender's
# softirq on that same CPU. So a figure is the generator plus the program
# under test on one core: only ratios between rows of the same run mean
# anything. Live rows are interleaved (each repeat runs every scenario once,
# set up afresh), so drift hits them alike. Each run checks that the
# measured program did the work: its counter plus the frames the veth
# dropped must equal what the generator sent, and the secondary counters
# (ssrc_drop against rtp, header-stats' packets, the socket's count) must
# agree; anything else stops the bench.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/scripts/bench
BUILD=${BUILD:-build}; [[ $BUILD == /* ]] || BUILD=$ROOT/$BUILD
OUT=${BENCH_OUT:-$ROOT/bench/results}
REPEATS=${BENCH_REPEATS:-5}
N_DROP=${BENCH_N_DROP:-4000000}
N_PASS=${BENCH_N_PASS:-1000000}
TAP_RATE=${BENCH_TAP_RATE:-1}
PACE_CHUNK=${BENCH_PACE_CHUNK:-256}     # frames per chunk (live: test-run call) of a paced run
# The tap rows' chunk: each live test-run call builds and tears down a page
# pool and leaves a gap in which the socket's reader falls asleep, about
# 42 us of CPU 0 a call (perf); unpaced xdp-limit-pass lost 6-22 % of its
# rate to 256-frame calls, 1-18 % to 4096 (engine-findings.md). The AF_XDP rows keep
# PACE_CHUNK: their bursts must fit the socket's rings.
TAP_CHUNK=${BENCH_TAP_CHUNK:-4096}
GEN_MODE=${BENCH_GEN_MODE:-auto}
XICEPT=$BUILD/xicept
GEN=$BUILD/bench/xi-gen
LIMIT=$BUILD/bench/xi-limit
SOCK=$BUILD/bench/socket-baseline
DELIVER=$BUILD/bench/xi-deliver-bench
BENCH_BPF=$BUILD/bin/tests/bpf/bench_bpf
BENCH_TAP=$BUILD/bin/tests/bpf/bench_tap
SRTP_BENCH=$BUILD/bench/xi-srtp-bench
BENCH_USER=$BUILD/bin/tests/user/bench_user
GEN_CPU=0
SINK_CPU=$(( $(nproc) > 1 ? 1 : 0 ))
SSRC_BASE=0x5eed0000
N_SSRCS=4          # the generator's SSRCs in every scenario but ssrcs-64
GEN_FRAME=214      # xi-gen's default: Ethernet, IPv4, UDP, RTP with 160 payload bytes
T0=$SECONDS

# shellcheck source=../testbed.sh
source "$ROOT/scripts/testbed.sh"
source "$HERE/lib.sh"

B_TMP=
B_SINK_PID=
B_RUN_PID=
B_PIN=
B_HOLD_IF=
B_HOLD2_IF=

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	# Every step runs, whatever fails before it.
	set +e
	if [[ -n $B_SINK_PID ]]; then
		kill "$B_SINK_PID" 2>/dev/null || true
		wait "$B_SINK_PID" 2>/dev/null || true
	fi
	# The daemon before the detach: it leaves its slot and TUN device itself.
	if [[ -n $B_RUN_PID ]]; then
		kill -CONT "$B_RUN_PID" 2>/dev/null
		kill -TERM "$B_RUN_PID" 2>/dev/null
		for _ in $(seq 100); do
			run_alive "$B_RUN_PID" || break
			sleep 0.02
		done
		kill -KILL "$B_RUN_PID" 2>/dev/null
		wait "$B_RUN_PID" 2>/dev/null
	fi
	if [[ -n ${TB_ID:-} ]]; then
		[[ -e $TB_PIN_ROOT/$TB_RX_IF ]] && tb_rx "$XICEPT" detach "$TB_RX_IF" >/dev/null 2>&1
		[[ -e /run/netns/$TB_RX_NS ]] && tb_rx "$LIMIT" detach "$TB_RX_IF" >/dev/null 2>&1
		tb_down
	fi
	[[ -n $B_PIN ]] && rm -f "$B_PIN"
	[[ -n $B_TMP ]] && rm -rf "$B_TMP"
	((rc == 0)) || echo "bench: FAIL (exit $rc)" >&2
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

preflight() {
	[[ $(id -u) -eq 0 ]] || die "needs root (BPF_PROG_TEST_RUN, XDP, network namespaces)"
	((REPEATS >= 3)) || die "BENCH_REPEATS must be at least 3"
	for bin in "$XICEPT" "$GEN" "$LIMIT" "$SOCK" "$DELIVER" "$BENCH_BPF" "$BENCH_TAP" "$BENCH_USER" "$SRTP_BENCH"; do
		[[ -x $bin ]] || die "$bin is missing: run 'make bench' (it builds everything)"
	done
	for cmd in jq gnuplot nsenter; do
		command -v "$cmd" >/dev/null || die "$cmd not found: run 'make deps'"
	done
	B_TMP=$(mktemp -d /tmp/xi-bench.XXXXXX)
	# Copies: a build running beside the bench must not swap a binary mid-run
	# (each embeds its BPF objects, so a copy is the whole program).
	mkdir "$B_TMP/bin"
	for bin in XICEPT GEN LIMIT SOCK DELIVER BENCH_BPF BENCH_TAP BENCH_USER SRTP_BENCH; do
		cp "${!bin}" "$B_TMP/bin/" || die "cannot copy ${!bin}"
		printf -v "$bin" '%s' "$B_TMP/bin/$(basename "${!bin}")"
	done
	# Two queues: the generator's XDP_TX frames land on the rx queue of the
	# CPU that sends them, so afxdp-chain-2q feeds one from each CPU; every
	# other row sends from CPU $GEN_CPU alone, onto queue $GEN_CPU.
	TB_QUEUES=2 tb_up "b$$" || die "cannot create the testbed"
	B_PIN=/sys/fs/bpf/xi-bench-$TB_ID
	RX_MAC=$(tb_mac rx "$TB_RX_IF")
	# Paced runs hold the generator's program here (lib.sh, gen); it goes
	# with the tx namespace.
	B_HOLD_IF=xih$TB_ID
	tb_tx ip link add "$B_HOLD_IF" type veth peer name "xij$TB_ID" ||
		die "cannot create the spare veth $B_HOLD_IF"
	B_HOLD2_IF=xik$TB_ID   # the second generator's, in afxdp-chain-2q
	tb_tx ip link add "$B_HOLD2_IF" type veth peer name "xil$TB_ID" ||
		die "cannot create the spare veth $B_HOLD2_IF"
	# No IPv6 chatter (router solicitations, MLD) among the counted frames.
	tb_tx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	tb_rx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
	# BENCH_RPS: a CPU mask for RPS on the rx veth's queues, so the stack's
	# receive of passed frames runs there rather than on the generator's
	# CPU (ip netns exec: sysfs is the namespace's there).
	if [[ -n ${BENCH_RPS:-} ]]; then
		[[ $BENCH_RPS =~ ^[0-9a-fA-F]+$ ]] || die "BENCH_RPS: a hex CPU mask, not '$BENCH_RPS'"
		ip netns exec "$TB_RX_NS" sh -c 'for q in /sys/class/net/$1/queues/rx-*/rps_cpus; do
			echo "$2" >"$q" || exit 1; done' sh "$TB_RX_IF" "$BENCH_RPS" ||
			die "cannot set rps_cpus $BENCH_RPS on $TB_RX_IF"
	fi
	mkdir -p "$OUT"
	: >"$B_TMP/runs"
	: >"$B_TMP/meta"
	progress "testbed $TB_TX_NS -> $TB_RX_NS, generator on CPU $GEN_CPU, sockets on CPU $SINK_CPU," \
		"$REPEATS runs a point"
}

preflight
source "$HERE/scenarios.sh"
run_live_rounds
only conns-install run_install   # first: its time decides whether 100,000 connections fit
only conns-1 run_scale
only testrun run_testrun
only tap-record run_tap_record
only userspace run_userspace
only deliver run_deliver
only srtp run_srtp
source "$HERE/report.sh"
write_report
progress "done in $((SECONDS - T0)) s: $OUT/latest.csv, latest.md, latest.png"

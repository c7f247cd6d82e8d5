# shellcheck shell=bash
# Helpers of scripts/bench/bench.sh: the generator, snapshots of what the
# program under test counted, the socket sink, and the record of each run.
#
# Files under $B_TMP:
#   runs   one line per timed run: scenario mpps ns_per_pkt sent counted
#   meta   scenario<TAB>key<TAB>value: limit, baseline, limits (what limits
#          the figure), note (where a difference went), unit
#   before, after   snapshots around one generator run (JSON)

declare -A SEQ=()      # per scenario: the next per-SSRC sequence start
RECORD=1               # 0 during warm-up runs

die() {
	echo "bench: FAIL: $*" >&2
	exit 1
}

progress() {
	printf 'bench [%4ss] %s\n' "$((SECONDS - T0))" "$*"
}

kv() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" <<<"$1"; }

meta() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$B_TMP/meta"; }

# SSRC list of the generator: ssrc_list N [BASE] -> 0x5eed0000,0x5eed0001,...
# (in decimal from BASE when given: a chain's text holds at most 511 bytes)
ssrc_list() {
	local i out= fmt='%s0x%08x' base=$SSRC_BASE
	[[ -z ${2:-} ]] || { fmt='%s%u'; base=$2; }
	for ((i = 0; i < $1; i++)); do
		out+=$(printf "$fmt" "${out:+,}" $((base + i)))
	done
	echo "$out"
}

xi() { tb_rx "$XICEPT" "$@"; }

# Frames the tx veth could not hand to its peer (its XDP ring was full).
veth_drops() { tb_tx ip -j -s link show "$TB_TX_IF" | jq '.[0].stats64.tx.dropped'; }

# gen COUNT SSRCS START: one generator run; sets G_SENT, G_NS and G_MODE
# (live or xsk: which way xi-gen sent, recorded in meta as generator/mode
# for the report). With GEN_RATE (Mpps) set, paced: chunks of GEN_CHUNK
# (default PACE_CHUNK) frames (live: a test-run call each, the program held
# on a spare veth so a call does not rebuild the kernel's XDP dispatcher,
# ~0.5 ms of CPU a call here).
gen() {
	if ((${GEN_TWO:-0})); then
		gen_two "$@"
		return
	fi
	local out pace=()
	[[ -z ${GEN_RATE:-} ]] || pace=(--rate "$GEN_RATE" --chunk "${GEN_CHUNK:-$PACE_CHUNK}" --hold "$B_HOLD_IF")
	out=$(tb_tx "$GEN" --ifname "$TB_TX_IF" --dst-mac "$RX_MAC" --src "$TB_TX_IP:6000" \
		--dst "$TB_RX_IP:5004" --ssrcs "$2" --ssrc-base "${GEN_BASE:-$SSRC_BASE}" --count "$1" \
		--start "$3" --cpu "$GEN_CPU" --mode "$GEN_MODE" "${pace[@]}") || die "xi-gen failed: $out"
	G_SENT=$(kv "$out" sent)
	G_NS=$(kv "$out" ns)
	gen_mode "$out"
}

# gen_mode OUTPUT: G_MODE from xi-gen's line, into meta once per mode.
gen_mode() {
	G_MODE=$(kv "$1" mode)
	[[ -n $G_MODE ]] || die "xi-gen said no mode: $1"
	grep -qP "^generator\tmode\t$G_MODE\$" "$B_TMP/meta" || meta generator mode "$G_MODE"
}

# GEN_TWO=1: two generators at once, half the count and half the rate each,
# one on each CPU (so on each rx queue; in xsk mode each binds the tx
# veth's queue of its CPU, which is why the testbed has two), SSRCs of their
# own. G_SENT is their sum, G_NS the longer of their times.
gen_two() {
	local half=$(($1 / 2)) pace0=() pace1=() o0 o1 p0 p1
	if [[ -n ${GEN_RATE:-} ]]; then
		local r
		r=$(awk -v r="$GEN_RATE" 'BEGIN { print r / 2 }')
		pace0=(--rate "$r" --chunk "${GEN_CHUNK:-$PACE_CHUNK}" --hold "$B_HOLD_IF")
		pace1=(--rate "$r" --chunk "${GEN_CHUNK:-$PACE_CHUNK}" --hold "$B_HOLD2_IF")
	fi
	tb_tx "$GEN" --ifname "$TB_TX_IF" --dst-mac "$RX_MAC" --src "$TB_TX_IP:6000" \
		--dst "$TB_RX_IP:5004" --ssrcs "$2" --ssrc-base "$SSRC_BASE" --count "$half" \
		--start "$3" --cpu 0 --mode "$GEN_MODE" "${pace0[@]}" >"$B_TMP/gen0" 2>&1 &
	p0=$!
	tb_tx "$GEN" --ifname "$TB_TX_IF" --dst-mac "$RX_MAC" --src "$TB_TX_IP:6000" \
		--dst "$TB_RX_IP:5004" --ssrcs "$2" --ssrc-base $((SSRC_BASE + 0x100)) --count "$half" \
		--start "$3" --cpu 1 --mode "$GEN_MODE" "${pace1[@]}" >"$B_TMP/gen1" 2>&1 &
	p1=$!
	wait "$p0" || die "xi-gen on CPU 0 failed: $(cat "$B_TMP/gen0")"
	wait "$p1" || die "xi-gen on CPU 1 failed: $(cat "$B_TMP/gen1")"
	o0=$(cat "$B_TMP/gen0") o1=$(cat "$B_TMP/gen1")
	G_SENT=$(($(kv "$o0" sent) + $(kv "$o1" sent)))
	G_NS=$(kv "$o0" ns)
	(($(kv "$o1" ns) > G_NS)) && G_NS=$(kv "$o1" ns)
	gen_mode "$o0"
	gen_mode "$o1"
	return 0
}

# The generator's own rate of its last run, in Mpps.
gen_mpps() { awk -v c="$G_SENT" -v ns="$G_NS" 'BEGIN { printf "%.4f", c * 1e3 / ns }'; }

# Snapshots: one JSON document each, of whatever the program under test counts.
snap_limit() { printf '{"count": %s}\n' "$(tb_rx "$LIMIT" count "$B_PIN")"; }
snap_xi() { xi stats "$TB_RX_IF" --conn "${SNAP_CONN:-1}" --json; }
snap_xi_all() { xi stats "$TB_RX_IF" --json; }

# delta JQ-EXPR: how far the expression advanced from before to after.
delta() {
	echo $(($(jq "$1" "$B_TMP/after") - $(jq "$1" "$B_TMP/before")))
}

STATS_PACKETS='[.connections[].ssrcs[].packets] | add // 0'

# Waits until the count stops moving: the last frames of a run may still sit
# in the veth's ring, for the softirq to finish after the generator returns.
settle() {
	local snap=$1 a b
	b=$($snap | md5sum)
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		sleep 0.05
		a=$($snap | md5sum)
		[[ $a == "$b" ]] && return 0
		b=$a
	done
}

# measure NAME COUNT SSRCS SNAP COUNT-EXPR [CHECK-EXPR ...]: one generator
# run against the program in place. COUNT-EXPR (jq over SNAP's document)
# is what the program under test counted; every CHECK-EXPR must have
# advanced by as much. What the program did not count must be frames the
# veth dropped (a few frames of slack for stray packets of the namespace).
# Sets M_COUNTED, M_DROPS; records the run unless RECORD=0.
measure() {
	local name=$1 count=$2 ssrcs=$3 snap=$4 expr=$5 start=${SEQ[$1]:-0} d0 c
	shift 5
	$snap >"$B_TMP/before"
	d0=$(veth_drops)
	gen "$count" "$ssrcs" "$start"
	SEQ[$name]=$((start + count / ssrcs))
	settle "$snap"
	$snap >"$B_TMP/after"
	M_DROPS=$(($(veth_drops) - d0))
	M_COUNTED=$(delta "$expr")
	# Through AF_XDP TX (xi-gen mode xsk) the frames are skbs, and veth
	# counts what XDP redirected and AF_XDP refused among its drops too
	# (xicept counts those as losses): the drops before the program are
	# what it did not see, which the veth's count must cover.
	if [[ ${G_MODE:-} == xsk && $((G_SENT - M_COUNTED)) -le $M_DROPS ]]; then
		M_DROPS=$((G_SENT - M_COUNTED))
	fi
	((M_COUNTED > 0)) || die "$name: the program under test counted nothing ($expr)"
	c=$((G_SENT - M_COUNTED - M_DROPS))
	((c >= -4 && c <= 4)) ||
		die "$name: sent $G_SENT, counted $M_COUNTED ($expr), veth dropped $M_DROPS: $c frames unaccounted for"
	for c in "$@"; do
		[[ $(delta "$c") -eq $M_COUNTED ]] ||
			die "$name: $c advanced by $(delta "$c"), $expr by $M_COUNTED"
	done
	((RECORD)) || return 0
	record "$name" "$(awk -v c="$M_COUNTED" -v ns="$G_NS" 'BEGIN { printf "%.4f", c * 1e3 / ns }')" \
		"$(awk -v c="$M_COUNTED" -v ns="$G_NS" 'BEGIN { printf "%.2f", ns / c }')" \
		"$G_SENT" "$M_COUNTED"
	if ((M_DROPS)); then
		meta "$name" drops "$M_DROPS"
	fi
	progress "  $name: $(tail -1 "$B_TMP/runs" | awk '{ printf "%s Mpps, %s ns/pkt", $2, $3 }')," \
		"counted $M_COUNTED of $G_SENT"
}

record() { echo "$1 $2 $3 $4 $5" >>"$B_TMP/runs"; }

# The socket that passed frames reach: socket-baseline on the other CPU
# (on CPU $SINK_ON where set: the rows of a daemon alone on its core).
# sink_start ARGS...: started and bound on return.
sink_start() {
	rm -f "$B_TMP/ready"
	nsenter --net="/run/netns/$TB_RX_NS" -- "$SOCK" --bind "$TB_RX_IP:5004" --cpu "${SINK_ON:-$SINK_CPU}" \
		--ready "$B_TMP/ready" --idle 0.5 "$@" >"$B_TMP/sink" 2>"$B_TMP/sink.err" &
	B_SINK_PID=$!
	for _ in $(seq 200); do
		[[ -e $B_TMP/ready ]] && return 0
		kill -0 "$B_SINK_PID" 2>/dev/null || break
		sleep 0.02
	done
	die "socket-baseline did not start: $(cat "$B_TMP/sink.err")"
}

# sink_wait: S_OUT holds its result line.
sink_wait() {
	wait "$B_SINK_PID" || die "socket-baseline failed: $(cat "$B_TMP/sink.err")"
	B_SINK_PID=
	S_OUT=$(cat "$B_TMP/sink")
	[[ -n $(kv "$S_OUT" received) ]] || die "socket-baseline printed nothing"
}

# The frames the program passed must be in the socket, or counted as the
# socket's drops: a pass scenario's difference, said in the table.
sink_check() {
	local name=$1 passed=$2 got drops
	got=$(kv "$S_OUT" received)
	drops=$(kv "$S_OUT" socket_drops)
	((got > 0)) || die "$name: the socket received nothing"
	((RECORD)) || return 0
	meta "$name" socket_received "$got"
	meta "$name" socket_drops "$drops"
	meta "$name" stack_lost "$((passed - got - drops))"
}

# ---- xicept run ----

# run_start: `xicept run` in the rx namespace, on the sockets' CPU (the
# generator's is busy in test-run), ready on return: it logs "running on IF"
# once its signal handlers are in. nsenter and taskset exec, so B_RUN_PID is
# the daemon itself.
run_start() {
	B_RUN_LOG=$B_TMP/run.log
	: >"$B_RUN_LOG"
	# shellcheck disable=SC2086 # RUN_ARGS: more options, split
	nsenter --net="/run/netns/$TB_RX_NS" -- taskset -c "${RUN_CPUS:-$SINK_CPU}" "$XICEPT" run \
		"$TB_RX_IF" ${RUN_ARGS:-} 2>>"$B_RUN_LOG" &
	B_RUN_PID=$!
	for _ in $(seq 250); do
		grep -q "running on $TB_RX_IF" "$B_RUN_LOG" && return 0
		kill -0 "$B_RUN_PID" 2>/dev/null || break
		sleep 0.02
	done
	die "xicept run did not start: $(tail -5 "$B_RUN_LOG")"
}

# run_alive PID: not exited (a zombie has exited).
run_alive() {
	local st
	st=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# run_stop: SIGTERM; it must exit 0 within 5 s. Its summary line gives
# R_FRAMES, R_DELIVERED, R_OBSERVED (tap records), R_DROPPED, R_LOST;
# R_CPU_NS is the CPU time it used (the TUN writes' trip through the stack
# included: they run in its system calls).
run_stop() {
	local pid=$B_RUN_PID stat line rc=0
	read -r -a stat <"/proc/$pid/stat" || die "xicept run is gone: $(tail -3 "$B_RUN_LOG")"
	R_CPU_NS=$(((stat[13] + stat[14]) * 1000000000 / $(getconf CLK_TCK)))
	kill -TERM "$pid"
	for _ in $(seq 250); do
		run_alive "$pid" || break
		sleep 0.02
	done
	run_alive "$pid" && die "xicept run still runs 5 s after SIGTERM"
	wait "$pid" || rc=$?
	B_RUN_PID=
	((rc == 0)) || die "xicept run exited with $rc: $(tail -3 "$B_RUN_LOG")"
	line=$(grep -o 'stopped: .*' "$B_RUN_LOG" | tail -1)
	[[ -n $line ]] || die "xicept run printed no summary: $(tail -3 "$B_RUN_LOG")"
	R_FRAMES=$(sed -n 's/^stopped: \([0-9]*\) frames.*/\1/p' <<<"$line")
	R_DELIVERED=$(sed -n 's/.* \([0-9]*\) delivered .*/\1/p' <<<"$line")
	R_OBSERVED=$(sed -n 's/.* \([0-9]*\) observed (tap).*/\1/p' <<<"$line")
	R_DROPPED=$(sed -n 's/.* \([0-9]*\) dropped,.*/\1/p' <<<"$line")
	R_LOST=$(sed -n 's/.* \([0-9]*\) lost.*/\1/p' <<<"$line")
	[[ -n $R_FRAMES && -n $R_DELIVERED && -n $R_OBSERVED && -n $R_DROPPED && -n $R_LOST ]] ||
		die "xicept run's summary changed: $line"
}

# Builds pion-bench (scripts/bench/pion) offline from Debian's Go packages.
build_pion() {
	local src=$HERE/pion bin=$1
	if [[ -x $bin && ! $src/main.go -nt $bin ]]; then
		return
	fi
	command -v go >/dev/null || die "go not found (apt install golang-go)"
	[[ -d /usr/share/gocode/src/github.com/pion/interceptor ]] ||
		die "apt install golang-github-pion-interceptor-dev"
	progress "building $bin"
	(cd "$src" && GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOFLAGS= \
		GOCACHE=$(dirname "$bin")/gocache go build -o "$bin" .)
}

# ---- perf on the daemon: where its time goes ----

PERF=$(command -v perf || true)
PERF_EVENTS=task-clock,context-switches,cpu-migrations,raw_syscalls:sys_enter,syscalls:sys_enter_sendmmsg,syscalls:sys_enter_sendto,syscalls:sys_enter_poll,syscalls:sys_enter_ppoll,syscalls:sys_enter_getsockopt

# perf_start: perf stat (software events and syscall tracepoints: this VM
# has no PMU, so no cycles) and perf record (cpu-clock, call graphs) on
# every thread of the running daemon, until perf_stop.
perf_start() {
	P_ON=0
	[[ -n $PERF ]] || return 0
	read -r -a P_STAT0 <"/proc/$B_RUN_PID/stat"
	"$PERF" stat -x, -o "$B_TMP/perf.stat" -e "$PERF_EVENTS" -p "$B_RUN_PID" >/dev/null 2>&1 &
	P_STAT_PID=$!
	"$PERF" record -q -e cpu-clock -g -p "$B_RUN_PID" -o "$B_TMP/perf.data" >/dev/null 2>&1 &
	P_REC_PID=$!
	P_ON=1
	sleep 0.3   # attached before the first frame
}

# perf_stop: before the daemon stops (its /proc entry goes with it).
perf_stop() {
	local st
	((P_ON)) || return 0
	read -r -a st <"/proc/$B_RUN_PID/stat"
	kill -INT "$P_STAT_PID" "$P_REC_PID" 2>/dev/null
	wait "$P_STAT_PID" "$P_REC_PID" 2>/dev/null || true
	P_ON=0
	P_UTIME=$((st[13] - P_STAT0[13])) P_STIME=$((st[14] - P_STAT0[14]))
}

# perf_meta NAME FRAMES: the counters as meta of NAME (perf_*; the report
# divides them by frames and batches of 64), the split of the daemon's CPU
# time between kernel and user (its stime and utime, and the samples'), and
# the top symbols in $OUT/perf-NAME.txt (the last run's).
perf_meta() {
	local name=$1 frames=$2 v ev
	[[ -n $PERF && -e $B_TMP/perf.stat ]] || return 0
	meta "$name" perf_frames "$frames"
	meta "$name" perf_sys_share "$(awk -v u="$P_UTIME" -v s="$P_STIME" 'BEGIN { if (u + s) printf "%.3f", s / (u + s) }')"
	while IFS=, read -r v _ ev _; do
		[[ $v =~ ^[0-9.]+$ ]] || continue
		meta "$name" "perf_${ev//:/_}" "$v"
	done <"$B_TMP/perf.stat"
	v=$("$PERF" report -i "$B_TMP/perf.data" --no-children -g none --sort dso --stdio 2>/dev/null |
		awk '$1 ~ /%$/ { sub(/%/, "", $1); if ($2 ~ /kernel/) k += $1; else u += $1 }
		END { if (k + u) printf "%.3f", k / (k + u) }' || true)
	[[ -z $v ]] || meta "$name" perf_kernel_samples "$v"
	{
		echo "# $name: perf record -e cpu-clock -g on the daemon ($frames frames), by self time"
		"$PERF" report -i "$B_TMP/perf.data" --no-children -g none --sort dso,sym --stdio 2>/dev/null |
			grep -E '^ +[0-9.]+%' | awk 'NR <= 30'
	} >"$OUT/perf-$name.txt"
	rm -f "$B_TMP/perf.data" "$B_TMP/perf.stat"
}

# shellcheck shell=bash
# The scenarios of scripts/bench/bench.sh (sourced after preflight). Each
# live scenario sets up the rx veth, runs the generator once through
# measure, and takes everything down again.

DENY="ssrc-filter mode=deny ssrc=$(ssrc_list "$N_SSRCS")"
ALLOW="ssrc-filter mode=allow ssrc=$(ssrc_list "$N_SSRCS")"
CHAIN_MAX=8

# ---- set-ups ----

limit_up() {
	rm -f "$B_PIN"
	tb_rx "$LIMIT" attach "$TB_RX_IF" "$1" "$B_PIN" || die "cannot attach xdp-limit-$1"
}
limit_down() {
	tb_rx "$LIMIT" detach "$TB_RX_IF" || die "cannot detach the limit program"
	rm -f "$B_PIN"
}

# xi_up [CHAIN]: attached, unknown flows dropped, CHAIN on the generator's
# flow; an SRTP connection with the keys of the file XI_SRTP when set.
xi_up() {
	xi attach "$TB_RX_IF" --mode native --policy drop >/dev/null || die "xicept attach failed"
	if [[ -n ${1:-} ]]; then
		xi conn add "$TB_RX_IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:6000" \
			--chain "$1" ${XI_SRTP:+--srtp "$XI_SRTP"} >/dev/null ||
			die "xicept conn add '$1'${XI_SRTP:+ (SRTP)} failed"
	fi
}
xi_down() { xi detach "$TB_RX_IF" >/dev/null || die "xicept detach failed"; }

# ---- the live scenarios ----

sc_limit_drop() {
	limit_up drop
	measure xdp-limit-drop "$N_DROP" "$N_SSRCS" snap_limit .count
	limit_down
}

# sc_limit_pass [NAME]: the no-op pass program to a socket, as row NAME
# (default xdp-limit-pass), paced when the caller sets GEN_RATE.
sc_limit_pass() {
	local name=${1:-xdp-limit-pass}
	limit_up pass
	sink_start --mode count --expect "$N_PASS"
	measure "$name" "$N_PASS" "$N_SSRCS" snap_limit .count
	sink_wait
	sink_check "$name" "$M_COUNTED"
	limit_down
}

# xdp-limit-pass-paced: the no-op pass program offered tap-chain's rate,
# paced the same way, in the same round: how much of the offered rate this
# core passes to a socket with no xicept at all.
sc_limit_pass_paced() { GEN_RATE=$TAP_RATE GEN_CHUNK=$TAP_CHUNK sc_limit_pass xdp-limit-pass-paced; }

sc_unknown_drop() {
	xi_up
	measure fastpath-unknown-drop "$N_DROP" "$N_SSRCS" snap_xi_all .reasons.unknown_flow
	xi_down
}

sc_filter_drop() {
	xi_up "$DENY"
	measure fastpath-filter-drop "$N_DROP" "$N_SSRCS" snap_xi .reasons.ssrc_drop .reasons.rtp
	xi_down
}

sc_stats_filter_drop() {
	xi_up "header-stats ! $DENY"
	measure fastpath-stats-filter-drop "$N_DROP" "$N_SSRCS" snap_xi .reasons.ssrc_drop \
		.reasons.rtp "$STATS_PACKETS"
	xi_down
}

sc_filter_stats_pass() {
	xi_up "$ALLOW ! header-stats"
	sink_start --mode count --expect "$N_PASS"
	measure fastpath-filter-stats-pass "$N_PASS" "$N_SSRCS" snap_xi .reasons.chain_end \
		.reasons.rtp "$STATS_PACKETS"
	sink_wait
	sink_check fastpath-filter-stats-pass "$M_COUNTED"
	xi_down
}

# What a user would write: the same statistics and deny list on a socket.
# The limit program passes every frame to it; the figure is the rate at
# which the program handled them, its own count over its own time.
sc_socket_baseline() {
	local got
	limit_up pass
	sink_start --mode deny --stats --ssrc-base "$SSRC_BASE" --ssrcs "$N_SSRCS" --expect "$N_PASS"
	RECORD=0 measure socket-baseline "$N_PASS" "$N_SSRCS" snap_limit .count
	sink_wait
	limit_down
	got=$(kv "$S_OUT" received)
	[[ $(kv "$S_OUT" stats_packets) -eq $got && $(kv "$S_OUT" filtered) -eq $got ]] ||
		die "socket-baseline did not filter and count every datagram: $S_OUT"
	((RECORD)) || return 0
	record socket-baseline "$(kv "$S_OUT" mpps)" \
		"$(awk -v c="$(kv "$S_OUT" cpu_ns)" -v n="$got" 'BEGIN { printf "%.2f", c / n }')" \
		"$G_SENT" "$got"
	meta socket-baseline socket_drops "$(kv "$S_OUT" socket_drops)"
	meta socket-baseline veth_drops "$M_DROPS"
	meta socket-baseline stack_lost "$((M_COUNTED - got - $(kv "$S_OUT" socket_drops)))"
	progress "  socket-baseline: $(kv "$S_OUT" mpps) Mpps, handled $got of $G_SENT"
}

# K noop stages, then the deny list: the chain-length table, live.
sc_chain() {
	local k=$1 chain=
	for ((i = 0; i < k; i++)); do chain+="noop ! "; done
	xi_up "$chain$DENY"
	measure "chain-noop-$k" "$N_DROP" "$N_SSRCS" snap_xi .reasons.ssrc_drop .reasons.rtp
	xi_down
}

# 64 SSRCs on one connection, each with its own header-stats entry.
sc_ssrcs64() {
	xi_up "header-stats ! ssrc-filter mode=deny ssrc=$(ssrc_list 64 1000)"
	GEN_BASE=1000 measure ssrcs-64 "$N_DROP" 64 snap_xi .reasons.ssrc_drop .reasons.rtp "$STATS_PACKETS"
	[[ $(jq '.connections[0].ssrcs | length' "$B_TMP/after") -eq 64 ]] ||
		die "ssrcs-64: header-stats does not hold 64 streams"
	xi_down
}

# ---- xicept run: the tap, the AF_XDP engine, the loss count (issue 9) ----

TAP_CHAIN="header-stats ! nack-generator ! receiver-report"
# ssrc-filter after a userspace element runs in the daemon and may drop:
# the same observers, forced through AF_XDP.
AFX_CHAIN="$TAP_CHAIN ! ssrc-filter mode=deny ssrc=1"
AFX_RATES="0.05 0.1 0.15 0.2 0.25 0.3 0.35 0.4 0.5 0.6 0.7 0.85 1 1.5 2"   # Mpps, upwards until one loses
AFX_SECONDS=0.4                     # the length of each of those runs
N_PROBE=200000                      # frames of the unpaced tap probes

path_is() {
	local p
	p=$(xi conn list "$TB_RX_IF" --json | jq -r '.connections[0].path')
	[[ $p == "$1" ]] || die "the connection takes path '$p', want '$1'"
}

losses_sum='[.losses[]] | add'
drop_reasons='.reasons.ssrc_drop + .reasons.no_daemon'

# tap_probe KEY: an unpaced run, what CPU 0 can do with the tap as it is.
tap_probe() {
	sink_start --mode count --expect "$N_PROBE"
	RECORD=0 measure tap-chain "$N_PROBE" "$N_SSRCS" snap_xi_all .reasons.rtp
	sink_wait
	meta tap-chain "$1" "$(gen_mpps)"
}

# tap-chain: observers only. The daemon must see a record of every packet,
# and the socket every packet, as with no xicept.
sc_tap_chain() {
	local got
	xi_up "$TAP_CHAIN"
	path_is tap
	tap_probe probe_no_daemon   # nothing reads the tap: no record, no_daemon
	run_start
	sink_start --mode count --expect "$N_PASS"
	GEN_RATE=$TAP_RATE GEN_CHUNK=$TAP_CHUNK RECORD=0 measure tap-chain "$N_PASS" "$N_SSRCS" snap_xi_all .reasons.rtp
	sink_wait
	run_stop
	got=$(kv "$S_OUT" received)
	record tap-chain "$(gen_mpps)" "$(awk -v c="$G_SENT" -v ns="$G_NS" 'BEGIN { printf "%.2f", ns / c }')" \
		"$G_SENT" "$R_OBSERVED"
	sink_check tap-chain "$M_COUNTED"
	meta tap-chain drops "$M_DROPS"
	meta tap-chain tap_full "$(delta .reasons.tap_full)"
	meta tap-chain no_daemon "$(delta .reasons.no_daemon)"
	meta tap-chain daemon_cpu_ns "$R_CPU_NS"
	progress "  tap-chain: offered $TAP_RATE Mpps, sent $G_SENT at $(gen_mpps) Mpps;" \
		"records $R_OBSERVED, socket $got, tap_full $(delta .reasons.tap_full)"
	run_start
	tap_probe probe_daemon      # a record a packet, read on CPU 1
	run_stop
	xi_down
}

# afxdp-chain and loss counting: the same observers through AF_XDP. Paced
# rates upwards: the row is the highest at which every packet reached the
# socket and xicept counted no loss. Then the unpaced generator overloads it:
# every packet sent must be at the socket or counted under a reason.
# afx_ladder NAME: the rates of AFX_RATES upwards, until one loses; records
# NAME with the highest at which every packet reached the socket and xicept
# counted no loss. A daemon must run. A fresh daemon loses its first packets
# (fill_empty, while its chains are built and its pages touched): the ladder
# measures it warm, and the table says how many.
afx_ladder() {
	local name=$1 r n got lost best=0 best_ns=0 best_sent=0 best_got=0 first_fail=
	sink_start --mode count --idle 0.3
	GEN_RATE=${AFX_RATES%% *} RECORD=0 measure "$name" 5000 "$N_SSRCS" snap_xi_all .reasons.rtp
	sink_wait
	snap_xi_all >"$B_TMP/after"
	meta "$name" warmup_lost "$(delta "$losses_sum")"
	for r in $AFX_RATES; do
		n=$(awk -v r="$r" -v s="$AFX_SECONDS" 'BEGIN { n = r * 1e6 * s; printf "%d", n < 20000 ? 20000 : n }')
		sink_start --mode count --expect "$n"
		GEN_RATE=$r RECORD=0 measure "$name" "$n" "$N_SSRCS" snap_xi_all .reasons.rtp
		sink_wait
		snap_xi_all >"$B_TMP/after"   # the losses of the last tick, too
		got=$(kv "$S_OUT" received)
		lost=$(delta "$losses_sum")
		if ((got == G_SENT && lost == 0 && M_DROPS == 0)); then
			best=$(gen_mpps) best_ns=$G_NS best_sent=$G_SENT best_got=$got
		else
			first_fail="at $r Mpps offered ($(gen_mpps) sent) the socket got $got of $G_SENT, xicept lost $lost ($(jq -r --slurpfile b "$B_TMP/before" '[.losses | to_entries[] | select(.value > $b[0].losses[.key]) | "\(.key) \(.value - $b[0].losses[.key])"] | join(", ")' "$B_TMP/after"))"
			break
		fi
	done
	if ((best_sent)); then
		record "$name" "$best" "$(awk -v c="$best_sent" -v ns="$best_ns" 'BEGIN { printf "%.2f", ns / c }')" \
			"$best_sent" "$best_got"
	else
		record "$name" 0 0 0 0
	fi
	[[ -z $first_fail ]] || meta "$name" note "$first_fail"
	progress "  $name: no loss up to $best Mpps${first_fail:+; $first_fail}"
}

# What each queue's socket read, from the daemon's last summary.
queues_meta() {
	local q
	q=$(grep -o 'stopped: [0-9]* frames (queues [0-9+]*)' "$B_RUN_LOG" | tail -1 | grep -o '[0-9+]*)$')
	meta "$1" queues "${q%)}"
}

# loss_count NAME [DROPS_IN_DAEMON]: the unpaced generator into the running
# daemon's chain, perf on it; every packet sent must be at the socket or
# counted under a reason (with DROPS_IN_DAEMON, the chain drops every
# packet in the daemon: its summary's dropped count is where they went).
# Stops the daemon.
loss_count() {
	local name=$1 indaemon=${2:-0} got=0 lost sent drops sdrops=0 acc mpps
	if ((!indaemon)); then sink_start --mode count --idle 0.5; fi
	perf_start
	RECORD=0 measure "$name" "$N_PASS" "$N_SSRCS" snap_xi_all .reasons.rtp
	if ((!indaemon)); then sink_wait; fi
	perf_stop
	run_stop                      # drains its rings, syncs the losses
	snap_xi_all >"$B_TMP/after"
	perf_meta "$name" "$R_FRAMES"
	if ((!indaemon)); then
		got=$(kv "$S_OUT" received)
		sdrops=$(kv "$S_OUT" socket_drops)
	fi
	lost=$(delta "$losses_sum")
	drops=$(delta "$drop_reasons")
	if ((indaemon)); then drops=$((drops + R_DROPPED)); fi
	sent=$G_SENT
	acc=$((got + sdrops + lost + drops + M_DROPS))
	# The delivered rate under overload; with nothing delivered, what the
	# daemon's CPU time a frame would allow on a core of its own.
	if ((indaemon)); then
		mpps=$(awk -v c="$R_CPU_NS" -v n="$R_FRAMES" 'BEGIN { printf "%.4f", c ? n * 1e3 / c : 0 }')
	else
		mpps=$(kv "$S_OUT" mpps)
	fi
	record "$name" "$mpps" \
		"$(awk -v c="$R_CPU_NS" -v n="$R_FRAMES" 'BEGIN { printf "%.2f", n ? c / n : 0 }')" "$sent" "$acc"
	meta "$name" unaccounted "$((sent - acc))"
	meta "$name" socket "$got"
	meta "$name" lost "$lost"
	meta "$name" drop_reasons "$drops"
	meta "$name" sdrops "$sdrops"
	meta "$name" vdrops "$M_DROPS"
	meta "$name" daemon_frames "$R_FRAMES"
	meta "$name" daemon_lost "$R_LOST"
	meta "$name" gen_mpps "$(gen_mpps)"
	jq -r --slurpfile b "$B_TMP/before" '.losses | to_entries[] | "\(.key) \(.value - $b[0].losses[.key])"' \
		"$B_TMP/after" | while read -r k v; do meta "$name" "loss_$k" "$v"; done
	progress "  $name: sent $sent at $(gen_mpps) Mpps = socket $got + losses $lost" \
		"+ drop reasons $drops + socket drops $sdrops + veth drops $M_DROPS: off by $((sent - acc))"
}

# sc_afxdp_chain WAY: the daemon delivers through its veth (afxdp-chain,
# loss-counting) or raw sockets (afxdp-chain-raw, loss-counting-raw, for
# comparison).
sc_afxdp_chain() {
	local way=$1 sfx= ac lc
	[[ $way == veth ]] || sfx=-$way
	ac=afxdp-chain$sfx lc=loss-counting$sfx
	xi_up "$AFX_CHAIN"
	path_is afxdp
	RUN_ARGS="--threads 1 --deliver $way" run_start
	tail -n 3 "$B_RUN_LOG" | grep -q "delivering in batches of up to 64 through $([[ $way == veth ]] &&
		echo "AF_XDP TX into veth" || echo "raw sockets")" || die "$ac: the daemon does not deliver through $way: $(tail -2 "$B_RUN_LOG")"
	afx_ladder "$ac"
	run_stop

	# Overload: the losses of a stopped daemon are synced, so from here
	# every count starts afresh.
	RUN_ARGS="--threads 1 --deliver $way" run_start
	loss_count "$lc"
	xi_down
}

# The same, with the daemon alone on its core: the socket reads on the
# generator's CPU, so what sharing a core costs is the difference.
sc_afxdp_chain_alone() {
	xi_up "$AFX_CHAIN"
	path_is afxdp
	RUN_ARGS="--threads 1" run_start
	SINK_ON=$GEN_CPU afx_ladder afxdp-chain-alone
	run_stop
	RUN_ARGS="--threads 1" run_start
	SINK_ON=$GEN_CPU loss_count loss-counting-alone
	xi_down
}

# The chain without delivery: its last element drops every packet in the
# daemon (an allow list no packet is on), so the row is AF_XDP RX and the
# chain alone, and loss-counting minus it is what delivery costs.
sc_loss_nodeliver() {
	xi_up "$TAP_CHAIN ! ssrc-filter mode=allow ssrc=1"
	path_is afxdp
	RUN_ARGS="--threads 1" run_start
	loss_count loss-counting-nodeliver 1
	xi_down
}

# The same chain on two receive queues, fed by a generator on each CPU, read
# by two engine threads free to run on either CPU; the socket stays on CPU
# $SINK_CPU. Each generator gets half the rate.
sc_afxdp_chain_2q() {
	xi_up "$AFX_CHAIN"
	path_is afxdp
	RUN_ARGS="--threads 2" RUN_CPUS=0,1 run_start
	grep -q "2 receive queues, 2 threads" "$B_RUN_LOG" ||
		die "afxdp-chain-2q: the daemon does not run two threads: $(tail -2 "$B_RUN_LOG")"
	GEN_TWO=1 afx_ladder afxdp-chain-2q
	run_stop
	queues_meta afxdp-chain-2q
	xi_down
}

# The tap chain and the afxdp chain again on an SRTP connection
# (AES_CM_128_HMAC_SHA1_80 both ways, fresh random keys in a 0600 file): the
# media path reads RTP headers only, so what SRTP adds is the emitted
# compounds' protection (receiver-report's RRs, as SRTCP on xicept's own
# SSRC) and the tag counted apart. The rows sit beside tap-chain and
# afxdp-chain of the same run.
srtp_keys_make() {
	local f=$B_TMP/srtp.keys
	(umask 077 && printf 'in AES_CM_128_HMAC_SHA1_80 inline:%s\nout AES_CM_128_HMAC_SHA1_80 inline:%s\n' \
		"$(head -c 30 /dev/urandom | base64)" "$(head -c 30 /dev/urandom | base64)" >"$f")
	echo "$f"
}

# R_EMITTED: the RTCP the daemon's last summary says it emitted.
run_emitted() {
	R_EMITTED=$(grep -o 'stopped: .*' "$B_RUN_LOG" | tail -1 | sed -n 's/.* \([0-9]*\) RTCP emitted.*/\1/p')
}

sc_tap_chain_srtp() {
	local got
	XI_SRTP=$(srtp_keys_make) xi_up "$TAP_CHAIN"
	path_is tap
	run_start
	sink_start --mode count --expect "$N_PASS"
	GEN_RATE=$TAP_RATE GEN_CHUNK=$TAP_CHUNK RECORD=0 measure tap-chain-srtp "$N_PASS" "$N_SSRCS" snap_xi_all .reasons.rtp
	sink_wait
	run_stop
	run_emitted
	got=$(kv "$S_OUT" received)
	record tap-chain-srtp "$(gen_mpps)" "$(awk -v c="$G_SENT" -v ns="$G_NS" 'BEGIN { printf "%.2f", ns / c }')" \
		"$G_SENT" "$R_OBSERVED"
	sink_check tap-chain-srtp "$M_COUNTED"
	meta tap-chain-srtp srtcp_emitted "$R_EMITTED"
	meta tap-chain-srtp daemon_cpu_ns "$R_CPU_NS"
	progress "  tap-chain-srtp: offered $TAP_RATE Mpps, sent $G_SENT at $(gen_mpps) Mpps;" \
		"records $R_OBSERVED, socket $got, SRTCP emitted $R_EMITTED"
	xi_down
}

sc_afxdp_chain_srtp() {
	XI_SRTP=$(srtp_keys_make) xi_up "$AFX_CHAIN"
	path_is afxdp
	RUN_ARGS="--threads 1" run_start
	afx_ladder afxdp-chain-srtp
	run_stop
	run_emitted
	meta afxdp-chain-srtp srtcp_emitted "$R_EMITTED"
	xi_down
}

# want NAME: the scenario is in BENCH_ONLY (an extended regex over row
# names; unset: every row), for runs of a few rows while working on them.
want() { [[ -z ${BENCH_ONLY:-} || $1 =~ $BENCH_ONLY ]]; }
# only NAME CMD...: CMD when want NAME (a status of 0 otherwise, for set -e).
only() {
	want "$1" || return 0
	shift
	"$@"
}

# The live rows (xi-gen on the veth testbed): with BENCH_ONLY naming none of
# them, no warm-up either.
LIVE_ROWS="xdp-limit-drop xdp-limit-pass fastpath-unknown-drop fastpath-filter-drop
fastpath-stats-filter-drop fastpath-filter-stats-pass socket-baseline ssrcs-64 xdp-limit-pass-paced tap-chain
afxdp-chain afxdp-chain-2q $(for ((k = 0; k <= CHAIN_MAX; k++)); do echo "chain-noop-$k"; done)"

run_live_rounds() {
	local r any=0
	for r in $LIVE_ROWS; do want "$r" && any=1; done
	((any)) || return 0
	progress "warm-up"
	RECORD=0 sc_limit_drop
	for ((rep = 1; rep <= REPEATS; rep++)); do
		progress "live round $rep/$REPEATS"
		only xdp-limit-drop sc_limit_drop
		only xdp-limit-pass sc_limit_pass
		only fastpath-unknown-drop sc_unknown_drop
		only fastpath-filter-drop sc_filter_drop
		only fastpath-stats-filter-drop sc_stats_filter_drop
		only fastpath-filter-stats-pass sc_filter_stats_pass
		only socket-baseline sc_socket_baseline
		for ((k = 0; k <= CHAIN_MAX; k++)); do only "chain-noop-$k" sc_chain "$k"; done
		only ssrcs-64 sc_ssrcs64
		only xdp-limit-pass-paced sc_limit_pass_paced
		only tap-chain sc_tap_chain
		only afxdp-chain sc_afxdp_chain veth
		only afxdp-chain-raw sc_afxdp_chain raw
		only afxdp-chain-alone sc_afxdp_chain_alone
		only loss-counting-nodeliver sc_loss_nodeliver
		only afxdp-chain-2q sc_afxdp_chain_2q
		only tap-chain-srtp sc_tap_chain_srtp
		only afxdp-chain-srtp sc_afxdp_chain_srtp
	done
}

# ---- connection tables: scale and install time ----

MAX_CONNS_OK=0
if "$XICEPT" attach --help 2>&1 | grep -q -- --max-conns; then
	MAX_CONNS_OK=1
fi

# conns_file N FILE: N connections for apply; the first one is the
# generator's flow, the rest other remote ports (never sent to).
conns_file() {
	awk -v ifn="$TB_RX_IF" -v n="$1" -v chain="$DENY" -v lip="$TB_RX_IP" -v rip="$TB_TX_IP" 'BEGIN {
		printf "{\"interfaces\": [{\"name\": \"%s\", \"mode\": \"native\", \"policy\": \"drop\", \"connections\": [\n", ifn
		for (i = 0; i < n; i++) {
			if (i == 0) { l = lip ":5004"; r = rip ":6000" }
			else { l = lip ":" 5005 + int(i / 50000); r = rip ":" 10000 + i % 50000 }
			printf "%s{\"local\": \"%s\", \"remote\": \"%s\", \"chain\": \"%s\"}\n", (i ? "," : ""), l, r, chain
		}
		printf "]}]}\n"
	}' >"$2"
}

# attach_sized N: attached with tables for N connections (when xicept can).
attach_sized() {
	local args=()
	if ((MAX_CONNS_OK && $1 > 4096)); then
		# Every connection lists the generator's SSRCs: a stream entry each.
		args=(--max-conns "$(($1 + 1024))" --max-flows "$((2 * $1 + 1024))"
			--max-streams "$((N_SSRCS * $1 + 1024))")
	fi
	xi attach "$TB_RX_IF" --mode native --policy drop "${args[@]}" >/dev/null ||
		die "xicept attach ${args[*]} failed"
}

# apply_timed FILE N: applies FILE; A_NS is how long it took. Checks the count.
apply_timed() {
	local t0 t1 n
	t0=$(date +%s%N)
	xi apply "$1" >/dev/null || die "xicept apply of $2 connections failed"
	t1=$(date +%s%N)
	A_NS=$((t1 - t0))
	n=$(xi conn list "$TB_RX_IF" --json | jq '.connections | length')
	[[ $n -eq $2 ]] || die "apply left $n connections, want $2"
}

record_install() {   # NAME N NS
	record "$1" "$(awk -v n="$2" -v ns="$3" 'BEGIN { printf "%.6f", n * 1e3 / ns }')" \
		"$(awk -v n="$2" -v ns="$3" 'BEGIN { printf "%.0f", ns / n }')" "$2" "$2"
	progress "  $1: $2 connections in $(awk -v ns="$3" 'BEGIN { printf "%.2f", ns / 1e9 }') s"
}

# conns_measure N: N connections by apply (timed), then the fast-path rate on
# the first one.
conns_measure() {
	local n=$1 file=$B_TMP/conns-$1.json
	[[ -e $file ]] || conns_file "$n" "$file"
	attach_sized "$n"
	apply_timed "$file" "$n"
	[[ $n -ne 1000 ]] || record_install conns-1k-install "$n" "$A_NS"
	measure "conns-$n" "$N_DROP" "$N_SSRCS" snap_xi .reasons.ssrc_drop .reasons.rtp
	xi_down
}

INSTALL_10K_NS=

run_install() {
	local n=10000 file=$B_TMP/conns-10000.json
	if ((!MAX_CONNS_OK)); then
		meta conns-10k-install note "not supported yet: xicept attach has no --max-conns, and an interface holds at most XI_MAX_CONNS (4096) connections"
		record conns-10k-install - - "$n" 0
		progress "conns-10k-install: not supported yet (no --max-conns)"
		return
	fi
	conns_file "$n" "$file"
	for ((rep = 1; rep <= 3; rep++)); do
		progress "install 10,000 connections, $rep/3"
		attach_sized "$n"
		apply_timed "$file" "$n"
		xi_down
		record_install conns-10k-install "$n" "$A_NS"
		INSTALL_10K_NS=$A_NS
		# Slow installs: one is enough to show it, and the bench must end.
		if ((A_NS > 60000000000)); then
			meta conns-10k-install note "measured once: the first install took over 60 s"
			break
		fi
	done
}

run_scale() {
	local big=100000
	for ((rep = 1; rep <= REPEATS; rep++)); do
		progress "connection tables, round $rep/$REPEATS"
		conns_measure 1
		conns_measure 1000
	done
	if ((!MAX_CONNS_OK)); then
		meta "conns-$big" note "not supported yet: xicept attach has no --max-conns/--max-flows; the tables hold 4096 connections"
		record "conns-$big" - - 0 0
		return
	fi
	# 10x the 10k install time, plus the runs: skip when it would not fit.
	if [[ -z $INSTALL_10K_NS ]] || ((INSTALL_10K_NS > 12000000000)); then
		meta "conns-$big" note "skipped: installing $big connections would take about $((${INSTALL_10K_NS:-0} / 100000000)) s (10x the 10k install)"
		record "conns-$big" - - 0 0
		return
	fi
	progress "connection tables: $big connections"
	conns_file "$big" "$B_TMP/conns-$big.json"
	attach_sized "$big"
	apply_timed "$B_TMP/conns-$big.json" "$big"
	record_install conns-100k-install "$big" "$A_NS"
	for ((rep = 1; rep <= REPEATS; rep++)); do
		measure "conns-$big" "$N_DROP" "$N_SSRCS" snap_xi .reasons.ssrc_drop .reasons.rtp
	done
	xi_down
}

# ---- test-run: ns per stage ----

# bench_bpf's chain table: "length K min median max xbase ns/stage" per line.
run_testrun() {
	local out repeat rounds
	progress "test-run: $BENCH_BPF"
	out=$("$BENCH_BPF") || die "bench_bpf failed: $out"
	repeat=$(sed -n 's/.*repeat \([0-9]*\).*/\1/p' <<<"$out" | head -1)
	rounds=$(sed -n 's/.* \([0-9]*\) rounds.*/\1/p' <<<"$out" | head -1)
	[[ -n $repeat && -n $rounds ]] || die "bench_bpf's output changed: no repeat or rounds"
	awk -v n="$((repeat * rounds))" '$1 == "length" {
		printf "testrun-chain-%d %.4f %.4f %.4f %s %d %d\n", $2, 1e3 / $5, 1e3 / $4, 1e3 / $3, $4, n, n
		x[$2] = $2; lo[$2] = $3; me[$2] = $4; hi[$2] = $5; k++
	} END {
		if (k < 9) exit 1
		# least-squares slope: ns per added stage
		for (i in x) { sx += x[i]; sxx += x[i] * x[i]; sl += lo[i]; sm += me[i]; sh += hi[i]
			xl += x[i] * lo[i]; xm += x[i] * me[i]; xh += x[i] * hi[i] }
		d = k * sxx - sx * sx
		bl = (k * xl - sx * sl) / d; bm = (k * xm - sx * sm) / d; bh = (k * xh - sx * sh) / d
		lo_s = bl < bh ? bl : bh; hi_s = bl < bh ? bh : bl
		printf "testrun-per-stage %.4f %.4f %.4f %.2f %d %d\n", 1e3 / hi_s, 1e3 / bm, 1e3 / lo_s, bm, n, n
	}' <<<"$out" >"$B_TMP/testrun" || die "bench_bpf's chain table changed"
	while read -r name a b c ns s n; do
		record "$name" "$a|$b|$c" "$ns" "$s" "$n"
	done <"$B_TMP/testrun"
	progress "  ns per stage (slope of the noop chain, lengths 0..8): $(awk '/per-stage/ { print $5 }' "$B_TMP/testrun")"
}

# ---- the tap's record on the packet's core (bench_tap) ----

# tap-record-MODE rows: ns per packet of header-stats ! tap under test-run
# on CPU $GEN_CPU, with the tap's ring read on CPU $SINK_CPU the way MODE
# says (tests/bpf/bench_tap.c); the record's cost is the row's median minus
# tap-record-none's (meta record_ns). bench_tap checks every record was read.
run_tap_record() {
	local out repeat rounds n _ name lo me hi rec
	progress "test-run: $BENCH_TAP"
	out=$("$BENCH_TAP" "$GEN_CPU" "$SINK_CPU") || die "bench_tap failed: $out"
	repeat=$(sed -n 's/.*repeat \([0-9]*\).*/\1/p' <<<"$out" | head -1)
	rounds=$(sed -n 's/.* \([0-9]*\) rounds.*/\1/p' <<<"$out" | head -1)
	[[ -n $repeat && -n $rounds ]] || die "bench_tap's output changed: no repeat or rounds"
	n=$((repeat * rounds))
	while read -r _ name lo me hi rec; do
		record "tap-record-$name" "$(awk -v a="$hi" -v b="$me" -v c="$lo" \
			'BEGIN { printf "%.4f|%.4f|%.4f", 1e3 / a, 1e3 / b, 1e3 / c }')" "$me" "$n" "$n"
		meta "tap-record-$name" record_ns "$rec"
		meta "tap-record-$name" ns_spread "$lo/$me/$hi"
	done < <(grep '^row ' <<<"$out")
	grep -q $'^tap-record-reader-waiting\trecord_ns' "$B_TMP/meta" || die "bench_tap's table changed: $out"
	progress "  tap record, ns on CPU $GEN_CPU: $(awk -F'\t' '$1 ~ /^tap-record-/ && $2 == "record_ns" { printf "%s %s  ", substr($1, 12), $3 }' "$B_TMP/meta")"
}

# ---- userspace: xicept's chain against pion/interceptor ----

US_CHAIN="nack-generator size=16384 interval=100s sender-ssrc=0xa001 ! receiver-report interval=100s sender-ssrc=0xa002 ! header-stats"
US_N=1000000

# A "result" line of bench_user or pion-bench as a row: wall min/median/max
# as packets per µs, CPU ns per packet (median).
record_userspace() {
	local name=$1 line=$2 reps=$3
	[[ $(kv "$line" checks) == ok ]] || die "$name failed its work checks: $line"
	record "$name" "$(awk -v a="$(kv "$line" max)" -v b="$(kv "$line" median)" -v c="$(kv "$line" min)" \
		'BEGIN { printf "%.4f|%.4f|%.4f", 1e3 / a, 1e3 / b, 1e3 / c }')" \
		"$(kv "$line" cpu_median)" "$(($(kv "$line" want_read) * reps))" "$(($(kv "$line" read) * reps))"
	meta "$name" note "$(kv "$line" n) sequence numbers a run, 1 % never sent (the loss NACKs and RRs report); sent = packets read in"
	progress "  $name: $(kv "$line" cpu_median) CPU ns/pkt (median)"
}

run_userspace() {
	local pion=$BUILD/bench/pion-bench out
	progress "userspace: $US_CHAIN"
	out=$("$BENCH_USER" -n "$US_N" -r "$REPEATS" -c "$US_CHAIN") || die "bench_user failed: $out"
	record_userspace userspace-interceptors "$(grep '^result ' <<<"$out")" "$REPEATS"
	build_pion "$pion"
	progress "userspace: pion/interceptor, nack + report + stats"
	out=$("$pion" -n "$US_N" -repeats "$REPEATS" -nack-size 16384 -nack-interval 1ms \
		-rr-interval 1ms -stats) || die "pion-bench failed: $out"
	record_userspace pion-interceptors "$(grep '^result ' <<<"$out")" "$REPEATS"
}

# ---- delivery onward: the engine's options, measured (issue 9) ----

DELIVER_N=128000   # datagrams a run, in batches of 64

# deliver-tun, deliver-raw, deliver-xsk: CPU per datagram of handing it back
# to the stack and reading it from a socket (scripts/bench/deliver_bench.c),
# each run in a namespace of its own, on CPU $SINK_CPU, interleaved.
run_deliver() {
	local rep mode ns out
	progress "delivery options: tun, raw, xsk"
	for ((rep = 1; rep <= REPEATS; rep++)); do
		for mode in tun raw xsk; do
			ns=xi-deliver-$$
			ip netns add "$ns" || die "cannot create namespace $ns"
			out=$(ip netns exec "$ns" "$DELIVER" --mode "$mode" --count "$DELIVER_N" \
				--cpu "$SINK_CPU" 2>&1) || { ip netns del "$ns"; die "xi-deliver-bench --mode $mode: $out"; }
			ip netns del "$ns"
			[[ $(kv "$out" received) -eq $DELIVER_N ]] || die "deliver-$mode lost datagrams: $out"
			record "deliver-$mode" "$(awk -v n="$(kv "$out" ns_per_pkt)" 'BEGIN { printf "%.4f", 1e3 / n }')" \
				"$(kv "$out" ns_per_pkt)" "$DELIVER_N" "$(kv "$out" received)"
		done
	done
	progress "  $(awk '$1 ~ /^deliver-/ { s[$1] += $3; n[$1]++ } END { for (k in s) printf "%s %.0f ns  ", k, s[k] / n[k] }' "$B_TMP/runs")"
}

# ---- SRTP: CPU per packet of each operation the engine does, per profile ----

SRTP_N=20000   # operations a run

# srtp-OP-PROFILE rows (scripts/bench/srtp_bench.c, xicept's own calls into
# libsrtp2) on CPU $SINK_CPU, and srtp-copy: the same bytes copied once.
run_srtp() {
	local rep out line op prof name
	progress "SRTP: protect and unprotect per profile"
	for ((rep = 1; rep <= REPEATS; rep++)); do
		out=$(taskset -c "$SINK_CPU" "$SRTP_BENCH" "$SRTP_N") || die "xi-srtp-bench failed: $out"
		while read -r line; do
			op=$(kv "$line" op)
			prof=$(kv "$line" profile)
			[[ $(kv "$line" ok) -eq $(kv "$line" count) ]] || die "xi-srtp-bench: $line"
			case $prof in
			AES_CM_128_HMAC_SHA1_80) name=srtp-$op-sha1-80 ;;
			AES_CM_128_HMAC_SHA1_32) name=srtp-$op-sha1-32 ;;
			AEAD_AES_128_GCM) name=srtp-$op-gcm-128 ;;
			AEAD_AES_256_GCM) name=srtp-$op-gcm-256 ;;
			*) name=srtp-$op ;;
			esac
			record "$name" "$(awk -v n="$(kv "$line" ns_per_pkt)" 'BEGIN { printf "%.4f", 1e3 / n }')" \
				"$(kv "$line" ns_per_pkt)" "$(kv "$line" count)" "$(kv "$line" ok)"
		done < <(grep '^srtp ' <<<"$out")
	done
	progress "  $(awk '$1 ~ /^srtp-/ { s[$1] += $3; n[$1]++ } END { for (k in s) printf "%s %.0f ns  ", k, s[k] / n[k] }' "$B_TMP/runs")"
}

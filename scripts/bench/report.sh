# shellcheck shell=bash
# The report of scripts/bench/bench.sh: $B_TMP/runs and $B_TMP/meta turned
# into $OUT/latest.csv, latest.md and latest.png.

# scenario -> "limit baseline kind": the rows its two ratios divide by.
# kind mpps: this row's median Mpps over theirs; cpu: their CPU ns per
# packet over this row's (both read "times as fast").
declare -A REF=(
	[xdp-limit-drop]="xdp-limit-drop - mpps"
	[xdp-limit-pass]="xdp-limit-pass - mpps"
	[fastpath-unknown-drop]="xdp-limit-drop socket-baseline mpps"
	[fastpath-filter-drop]="xdp-limit-drop socket-baseline mpps"
	[fastpath-stats-filter-drop]="xdp-limit-drop socket-baseline mpps"
	[fastpath-filter-stats-pass]="xdp-limit-pass - mpps"
	[socket-baseline]="xdp-limit-pass - mpps"
	[ssrcs-64]="xdp-limit-drop fastpath-stats-filter-drop mpps"
	[conns-1]="xdp-limit-drop conns-1 mpps"
	[conns-1000]="xdp-limit-drop conns-1 mpps"
	[conns-100000]="xdp-limit-drop conns-1 mpps"
	[userspace-interceptors]="- pion-interceptors cpu"
	[xdp-limit-pass-paced]="xdp-limit-pass - mpps"
	[tap-chain]="xdp-limit-pass xdp-limit-pass-paced mpps"
	[afxdp-chain]="xdp-limit-pass - mpps"
	[tap-chain-srtp]="xdp-limit-pass tap-chain mpps"
	[afxdp-chain-srtp]="xdp-limit-pass afxdp-chain mpps"
	[afxdp-chain-raw]="xdp-limit-pass afxdp-chain mpps"
	[afxdp-chain-2q]="xdp-limit-pass afxdp-chain mpps"
	[afxdp-chain-alone]="xdp-limit-pass afxdp-chain mpps"
	[loss-counting-alone]="- loss-counting cpu"
	[loss-counting-nodeliver]="- loss-counting cpu"
	[deliver-tun]="- deliver-tun cpu"
	[deliver-raw]="- deliver-tun cpu"
	[deliver-xsk]="- deliver-tun cpu"
)
for op in unprotect-rtcp protect-rtcp protect-rtp unprotect-rtp; do
	for p in sha1-80 sha1-32 gcm-128 gcm-256; do
		REF[srtp-$op-$p]="- srtp-copy cpu"
	done
done
for m in none no-reader reader-waiting reader-waiting-libbpf reader-busy reader-busy-libbpf; do
	REF[tap-record-$m]="- tap-record-none cpu"
done
for ((k = 0; k <= 8; k++)); do
	REF[chain-noop-$k]="xdp-limit-drop chain-noop-0 mpps"
	REF[testrun-chain-$k]="- testrun-chain-0 mpps"
done
declare -A WHY

# What limits each figure, measured or by construction.
WHY=(
	[xdp-limit-drop]="the generator and veth's XDP hand-over on one core: the ceiling of every drop row"
	[xdp-limit-pass]="an skb per frame and the UDP receive path, on the generator's core: the ceiling of every pass row"
	[xdp-limit-pass-paced]="xdp-limit-pass offered tap-chain's rate in chunks as tap-chain is, in the same round: what of the offered rate this core passes to a socket with no xicept, the ceiling of tap-chain"
	[fastpath-unknown-drop]="xi_entry alone: parse, one xi_ports array read (no flow on the port), a reason counter; ~7 ns over the limit in test-run"
	[fastpath-filter-drop]="test-run: known-flow entry 27 ns over the floor (flow hash ~10, parse+classify ~8, ports, conn array, counters), ssrc-filter 26 ns (mode and list hash lookups ~16, per-CPU drop counters ~8, direct tail call 2): each hash lookup is the floor of what is left"
	[fastpath-stats-filter-drop]="as filter-drop, plus header-stats ~58 ns in test-run: the clock read (kvm-clock, ~20 ns here), the rate and stream hash lookups, A.1/A.8 under a spin lock whose irq save/restore are paravirtual calls (~7 ns)"
	[fastpath-filter-stats-pass]="the stack's UDP receive path (as xdp-limit-pass), plus the chain"
	[socket-baseline]="the slower of: the stack on the generator's core, recvmmsg + filter + stats on the other core"
	[ssrcs-64]="64 header-stats entries in turn: more cache lines per round of SSRCs"
	[conns-1]="as fastpath-filter-drop (one connection, applied from a file)"
	[conns-1000]="flow and connection lookups in fuller tables"
	[conns-100000]="flow and connection lookups in much fuller tables"
	[conns-1k-install]="xicept apply: per-connection map updates and syscalls"
	[conns-10k-install]="xicept apply: per-connection map updates and syscalls"
	[conns-100k-install]="xicept apply: per-connection map updates and syscalls"
	[testrun-per-stage]="one tail call and the stage's own work (slope over noop chains of 0..8, bench_bpf)"
	[userspace-interceptors]="the chain in C: NACK log, receiver statistics, header-stats twin, attributes"
	[deliver-tun]="the engine's delivery before: a TUN device, one write() a datagram, the stack's receive path inside it; a 200-byte IPv4 RTP datagram, read back from a UDP socket by the same thread after each batch of 64 (xi-deliver-bench)"
	[deliver-raw]="the engine's fallback delivery (--deliver raw): one sendmmsg() a batch of 64 on a raw IPPROTO_RAW socket; per datagram still a route lookup, IP output, loopback and the receive path"
	[deliver-xsk]="AF_XDP TX (copy mode) into a veth whose peer holds the address, one sendto() kick a batch of 64: per datagram an skb built from the frame and the peer's receive path, no route lookup or IP output. The cheapest, and the engine's way since issue 19 (afxdp-chain): a veth pair of the daemon's own, made and removed over rtnetlink, a TX queue per thread, the peer's reverse-path filter off or loose"
	[pion-interceptors]="pion's per-packet allocations, maps and locks, the stats recorder's channel, GC"
	[tap-record-none]="BPF_PROG_TEST_RUN of xi_entry, header-stats alone, on CPU $GEN_CPU (bench_tap): the baseline of the tap-record rows; ns/pkt is the median, record ns = a row's median minus this one's"
	[tap-record-no-reader]="header-stats ! tap, nobody reading during the run: the record alone (tail call, xi_xsks lookup, bpf_xdp_load_bytes of the headers into the CPU's batch in xi_tap_stage, and every 8th record one bpf_ringbuf_output of the batch: the ring's spin lock with irqs saved, the copy, the fill query, BPF_RB_NO_WAKEUP) and the cache lines of a 16 MiB ring that were not in this core's cache"
	[tap-record-reader-waiting]="the daemon's way: the reader on CPU $SINK_CPU sleeps in poll with a 1 ms timeout (XI_TAP_READ_MS) and is woken only by the record that takes the fill across an eighth of the ring; the consumer position is stored every 256 records (xi_ring)"
	[tap-record-reader-waiting-libbpf]="the daemon's loop before: the same poll on libbpf's epoll fd, which is level-triggered (once a wakeup came, it polls readable while any record waits; here the 1 ms reads keep the fill below an eighth, so no wakeup comes), and ring_buffer__consume, which stores the consumer position after every record"
	[tap-record-reader-busy]="a reader on CPU $SINK_CPU that never sleeps (xi_ring_consume in a loop): it reads the producer position and each record as soon as it is written, so the lines bounce between the cores; not the daemon's way"
	[tap-record-reader-busy-libbpf]="as reader-busy with libbpf's ring_buffer__consume, which stores the consumer position after every record"
	[srtp-copy]="the floor of the SRTP rows: a 1172-byte RTP packet copied once, as the engine copies what it protects (xi-srtp-bench, CPU $SINK_CPU)"
)
# The SRTP rows: what each operation is, and what limits it (perf record of
# xi-srtp-bench: Debian's libsrtp2 is built on NSS).
SRTP_LIMIT="Debian's libsrtp2 runs on NSS: every packet goes through PK11, whose cipher and HMAC contexts are made, locked and freed per call (perf: 38 % freebl's AES and SHA-1, 29 % libc mutexes, malloc/free and the memset of fresh contexts, 10 % softokn), so HMAC-SHA1 profiles cost 3-5x the AES-GCM ones, whose one context does both"
for p in sha1-80 sha1-32 gcm-128 gcm-256; do
	WHY[srtp-unprotect-rtcp-$p]="the remote's SRTCP (a 16-byte NACK) unprotected before the interceptors read it; $SRTP_LIMIT"
	WHY[srtp-protect-rtcp-$p]="a compound xicept emits (a NACK) protected on its own SSRC; $SRTP_LIMIT"
	WHY[srtp-protect-rtp-$p]="nack-responder's RTX (1172 bytes) protected on the RTX SSRC; $SRTP_LIMIT"
	WHY[srtp-unprotect-rtp-$p]="a copy of a local stream's packet (1172 bytes) unprotected for RTX, once per packet asked for; $SRTP_LIMIT"
done

for ((k = 0; k <= 8; k++)); do
	WHY[chain-noop-$k]="$k tail-called noop stages before ssrc-filter deny: a tail call and a stage each"
	WHY[testrun-chain-$k]="BPF_PROG_TEST_RUN of xi_entry with $k noop stages (bench_bpf): no veth, no generator"
done

# meta_median NAME KEY: the median of a numeric meta value over the runs.
meta_median() {
	awk -F'\t' -v n="$1" -v k="$2" '$1 == n && $2 == k { v[++m] = $3 + 0 }
	END {
		if (!m) exit
		for (i = 2; i <= m; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		print m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2
	}' "$B_TMP/meta"
}

# What limits the rows of `xicept run`, from what this run measured.
engine_why() {
	local nd d lk k v
	nd=$(meta_median tap-chain probe_no_daemon)
	d=$(meta_median tap-chain probe_daemon)
	WHY[tap-chain]="offered $TAP_RATE Mpps (xi-gen --rate, chunks of $TAP_CHUNK frames, as xdp-limit-pass-paced), daemon and socket on CPU $SINK_CPU. CPU $GEN_CPU runs the generator, XDP, the tap record and the stack's pass path: unpaced it reaches $(fmt "$nd" %.3f) Mpps with no daemon (no record written: no_daemon) and $(fmt "$d" %.3f) Mpps with the daemon reading the tap, so the record (the frame through its RTP header copied with bpf_xdp_load_bytes into its CPU's batch, one bpf_ringbuf_output of 8 records into a 16 MiB ring read on the other CPU) costs about $(awk -v a="$nd" -v b="$d" 'BEGIN { if (a > 0 && b > 0) printf "%.0f", 1e3 / b - 1e3 / a }') ns a packet there (a difference within the runs' spread when it comes out below 0); × baseline is against xdp-limit-pass-paced of the same rounds; tap_full $(meta_sum tap-chain tap_full), no_daemon $(meta_sum tap-chain no_daemon); counted = records the daemon processed ('observed (tap)' in its summary)"
	WHY[afxdp-chain]="highest of $AFX_RATES Mpps offered (${AFX_SECONDS} s each) with socket count = sent and no loss counted; one engine thread (--threads 1) on CPU $SINK_CPU beside the socket: copy-mode AF_XDP RX in batches of 64, the chain, the datagrams copied into the thread's TX frames and one sendto() kick a batch on its TX queue of the daemon's veth, whose peer's receive path (IP and UDP receive, the socket's wakeup) runs in the daemon's system call — $(fmt "$(col loss-counting 5)" %.0f) ns of daemon CPU a packet under overload (loss-counting; $(fmt "$(col loss-counting-raw 5)" %.0f) ns through raw sockets, loss-counting-raw); above that rate its fill ring runs empty. Measured warm: a fresh daemon lost $(meta_sum afxdp-chain warmup_lost) of the first 5000 packets over the runs (fill_empty), before the ladder"
	lk=
	while IFS=$'\t' read -r k v; do
		[[ $v == 0 ]] || lk+="${lk:+, }$k $v"
	done < <(awk -F'\t' '$1 == "loss-counting" && $2 ~ /^loss_/ { s[substr($2, 6)] += $3; if (!($2 in o)) { o[$2]; ord[++n] = substr($2, 6) } }
		END { for (i = 1; i <= n; i++) printf "%s\t%d\n", ord[i], s[ord[i]] }' "$B_TMP/meta")
	WHY[loss-counting]="the unpaced generator ($(fmt "$(meta_median loss-counting gen_mpps)" %.2f) Mpps median) into the afxdp-chain; Mpps = what the socket got over its own time (the daemon's delivered rate under overload), ns/pkt = daemon CPU per frame it handled; counted = socket $(meta_sum loss-counting socket) + xicept losses $(meta_sum loss-counting lost) (${lk:-none}) + drop reasons (ssrc_drop, no_daemon) $(meta_sum loss-counting drop_reasons) + the socket's own drops $(meta_sum loss-counting sdrops) + tx veth drops $(meta_sum loss-counting vdrops); sent − counted = $(meta_sum loss-counting unaccounted) ($(awk -F'\t' '$1 == "loss-counting" && $2 == "unaccounted" && $3 != 0 { n++ } END { print n + 0 }' "$B_TMP/meta") runs off)"
	WHY[tap-chain-srtp]="tap-chain on an SRTP connection (AES_CM_128_HMAC_SHA1_80 both ways): the fast path and the tap read RTP headers only, so the packet path is tap-chain's (the tag is counted apart, no key is touched per packet); what SRTP adds is libsrtp2 protecting each compound receiver-report emits (SRTCP emitted over the runs: $(meta_sum tap-chain-srtp srtcp_emitted), about 1.8 µs each, see srtp-protect-rtcp-sha1-80); × baseline against tap-chain of this run"
	WHY[afxdp-chain-srtp]="afxdp-chain on an SRTP connection (AES_CM_128_HMAC_SHA1_80 both ways): every packet still goes through AF_XDP and the chain, which reads RTP headers only (no per-packet libsrtp2 call); SRTCP emitted over the runs: $(meta_sum afxdp-chain-srtp srtcp_emitted); × baseline against afxdp-chain of this run. Warm-up losses $(meta_sum afxdp-chain-srtp warmup_lost)"
	WHY[afxdp-chain-alone]="as afxdp-chain, but the socket reads on CPU $GEN_CPU: the daemon (nice -10) is alone on CPU $SINK_CPU, so afxdp-chain over this row is what sharing a core with the application costs. Warm-up losses $(meta_sum afxdp-chain-alone warmup_lost)"
	WHY[loss-counting-alone]="as loss-counting with the socket on CPU $GEN_CPU (the daemon alone on its core); counted = socket $(meta_sum loss-counting-alone socket) + xicept losses $(meta_sum loss-counting-alone lost) + drop reasons $(meta_sum loss-counting-alone drop_reasons) + socket drops $(meta_sum loss-counting-alone sdrops) + tx veth drops $(meta_sum loss-counting-alone vdrops); sent − counted = $(meta_sum loss-counting-alone unaccounted); × baseline: loss-counting's daemon CPU a frame over this row's"
	WHY[loss-counting-nodeliver]="the overloaded daemon with a chain whose last element (ssrc-filter mode=allow ssrc=1) drops every packet in the daemon: AF_XDP RX, the chain and the fill ring, no delivery. Mpps = 1000 / its CPU ns a frame (what it would handle on a core of its own); counted = dropped in the daemon and drop reasons $(meta_sum loss-counting-nodeliver drop_reasons) + xicept losses $(meta_sum loss-counting-nodeliver lost) + tx veth drops $(meta_sum loss-counting-nodeliver vdrops); sent − counted = $(meta_sum loss-counting-nodeliver unaccounted); loss-counting's CPU a frame minus this row's is what delivery costs"
	WHY[afxdp-chain-raw]="as afxdp-chain, delivering through raw sockets (--deliver raw): one sendmmsg() a batch, per datagram a route lookup, IP output and the loopback trip before the same receive path; × baseline is its rate over afxdp-chain's. Warm-up losses $(meta_sum afxdp-chain-raw warmup_lost)"
	WHY[loss-counting-raw]="as loss-counting, delivering through raw sockets (--deliver raw); sent − counted = $(meta_sum loss-counting-raw unaccounted)"
	WHY[afxdp-chain-2q]="as afxdp-chain, fed by two generators at half the rate each, one on each CPU (veth puts a generator's frames on the rx queue of its CPU), read by two engine threads (--threads 2) free to run on either CPU, the socket on CPU $SINK_CPU; frames each queue's socket read over the runs: $(awk -F'\t' '$1 == "afxdp-chain-2q" && $2 == "queues" { printf "%s%s", n++ ? ", " : "", $3 }' "$B_TMP/meta"). On two CPUs the generators, XDP, both engine threads, the stack's receive path and the socket share the same two cores, so the second queue adds a thread but no core. Warm-up losses $(meta_sum afxdp-chain-2q warmup_lost)"
}

# One line per scenario, in first-seen order:
# name min median max ns sent counted
aggregate() {
	awk '
	# mawk has no asort: an insertion sort of a few values.
	function sorted(s, a,   m, i, j, t) {
		m = split(s, a, " ")
		for (i = 2; i <= m; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return m
	}
	function median(s,   a, m) {
		m = sorted(s, a)
		return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
	}
	!($1 in seen) { seen[$1] = 1; order[++n] = $1 }
	{ mp[$1] = mp[$1] " " $2; ns[$1] = ns[$1] " " $3; sent[$1] += $4; cnt[$1] += $5 }
	END {
		for (i = 1; i <= n; i++) {
			k = order[i]; v = mp[k]; sub(/^ /, "", v)
			if (v == "-") { lo = me = hi = "-"; nsm = "-" }
			else if (v ~ /\|/ && split(v, a, "|") == 3) { lo = a[1]; me = a[2]; hi = a[3]; nsm = median(ns[k]) }
			else {
				m = sorted(v, a); lo = a[1]; hi = a[m]; me = median(v)
				nsm = median(ns[k])
			}
			print k, lo, me, hi, nsm, sent[k], cnt[k]
		}
	}' "$B_TMP/runs"
}

# meta_sum NAME KEY: the sum of a numeric meta value over every run.
meta_sum() {
	awk -F'\t' -v n="$1" -v k="$2" '$1 == n && $2 == k { s += $3; f = 1 } END { if (f) print s }' \
		"$B_TMP/meta"
}
meta_text() {
	awk -F'\t' -v n="$1" -v k="$2" '$1 == n && $2 == k { t = $3 } END { print t }' "$B_TMP/meta"
}

fmt() { awk -v v="$1" -v f="$2" 'BEGIN { if (v == "-" || v == "") print ""; else printf f, v }'; }

# ratio ROW REF KIND: from the aggregate lines in $B_TMP/agg.
ratio() {
	[[ $2 != - ]] || return 0
	awk -v r="$1" -v b="$2" -v kind="$3" '
	$1 == r { rm = $3; rn = $5 } $1 == b { bm = $3; bn = $5 }
	END {
		if (kind == "cpu" && rn > 0 && bn > 0) printf "%.2f", bn / rn
		else if (kind == "mpps" && rm > 0 && bm > 0) printf "%.2f", rm / bm
	}' "$B_TMP/agg"
}

# Where the frames that were sent but not counted went.
difference() {
	local name=$1 sent=$2 counted=$3 out= v
	if [[ $sent -gt 0 && $counted -ne $sent && $name != testrun-* ]]; then
		out="sent − counted = $((sent - counted))"
		v=$(meta_sum "$name" drops); [[ -z $v ]] || out+="; tx veth ring full (dropped before the program): $v"
		v=$(meta_sum "$name" veth_drops); [[ -z $v ]] || out+="; tx veth ring full: $v"
	fi
	v=$(meta_sum "$name" socket_received)
	[[ -z $v ]] || out+="${out:+; }the socket received $v of the frames passed"
	v=$(meta_sum "$name" socket_drops)
	[[ -z $v ]] || out+="${out:+; }socket drops $v"
	v=$(meta_sum "$name" stack_lost)
	[[ -z $v || $v -eq 0 ]] || out+="${out:+; }lost in the stack $v"
	v=$(meta_text "$name" note)
	[[ -z $v ]] || out+="${out:+; }$v"
	echo "$out"
}

write_csv() {
	local name lo me hi ns sent counted lim base kind
	echo "scenario,mpps_min,mpps_median,mpps_max,ns_per_pkt_median,sent,counted,ratio_to_limit,ratio_to_baseline" \
		>"$OUT/latest.csv"
	while read -r name lo me hi ns sent counted; do
		read -r lim base kind <<<"${REF[$name]:-- - mpps}"
		printf '%s,%s,%s,%s,%s,%s,%s,%s,%s\n' "$name" "$(fmt "$lo" %.4f)" "$(fmt "$me" %.4f)" \
			"$(fmt "$hi" %.4f)" "$(fmt "$ns" %.2f)" "$sent" "$counted" \
			"$(ratio "$name" "$lim" mpps)" "$(ratio "$name" "$base" "$kind")" >>"$OUT/latest.csv"
	done <"$B_TMP/agg"
}

# col NAME FIELD: a column of latest.csv (1-based) for one scenario.
col() { awk -F, -v n="$1" -v f="$2" '$1 == n { print $f }' "$OUT/latest.csv"; }

target_line() {   # LABEL VALUE OP GOAL UNIT
	local label=$1 v=$2 op=$3 goal=$4 unit=$5 met
	if [[ -z $v ]]; then
		echo "| $label | $op $goal$unit | not measured | no |"
		return
	fi
	met=$(awk -v v="$v" -v g="$goal" -v op="$op" 'BEGIN {
		print ((op == "≥" && v >= g) || (op == "≤" && v <= g) || (op == "<" && v < g)) ? "yes" : "**no**" }')
	echo "| $label | $op $goal$unit | $v$unit | $met |"
}

write_targets() {
	local inst=
	[[ -z $(col conns-10k-install 5) ]] ||
		inst=$(awk -v n="$(col conns-10k-install 5)" 'BEGIN { printf "%.2f", n * 10000 / 1e9 }')
	echo "| target | goal | measured | met |"
	echo "|---|---|---|---|"
	target_line "fastpath-unknown-drop / xdp-limit-drop" "$(col fastpath-unknown-drop 8)" "≥" 0.80 ×
	target_line "fastpath-filter-drop / xdp-limit-drop" "$(col fastpath-filter-drop 8)" "≥" 0.70 ×
	target_line "fastpath-stats-filter-drop / xdp-limit-drop" "$(col fastpath-stats-filter-drop 8)" "≥" 0.60 ×
	target_line "fastpath-filter-drop / xdp-limit-drop, kept from issue 19's start" "$(col fastpath-filter-drop 8)" "≥" 0.43 ×
	target_line "fastpath-stats-filter-drop / xdp-limit-drop, kept from issue 19's start" "$(col fastpath-stats-filter-drop 8)" "≥" 0.29 ×
	target_line "fast path (stats + deny) / socket-baseline" "$(col fastpath-stats-filter-drop 9)" "≥" 5 ×
	target_line "each stage in a chain, test-run" "$(col testrun-per-stage 5)" "≤" 5 " ns"
	target_line "conns-100000 / conns-1" "$(col conns-100000 9)" "≥" 0.90 ×
	target_line "conns-10k-install" "$inst" "<" 1 " s"
	target_line "pion / userspace, CPU per packet" "$(col userspace-interceptors 9)" "≥" 15 ×
	local ts tc ac
	ts=$(col tap-chain 6) tc=$(col tap-chain 7)
	target_line "tap-chain: records processed / sent (offered $TAP_RATE Mpps, sent at $(fmt "$(col tap-chain 3)" %.3f))" \
		"$(awk -v s="$ts" -v c="$tc" 'BEGIN { if (s > 0) printf "%.4f", c / s }')" "≥" 0.95 ""
	target_line "tap-chain: socket count / packets that reached xicept (sent − tx veth drops $(meta_sum tap-chain drops)): media as with no xicept" \
		"$(awk -v s="$ts" -v d="$(meta_sum tap-chain drops)" -v c="$(meta_sum tap-chain socket_received)" 'BEGIN { if (s > 0 && c != "") printf "%.6f", c / (s - d) }')" "≥" 1 ""
	target_line "tap record on the generator's core (tap-record-reader-waiting − tap-record-none, test-run medians)" \
		"$(meta_text tap-record-reader-waiting record_ns)" "≤" 30 " ns"
	target_line "afxdp-chain, one queue: highest rate with every packet at the socket" "$(fmt "$(col afxdp-chain 3)" %.3f)" "≥" 1 " Mpps"
	target_line "afxdp-chain / xdp-limit-pass: a chain that changes packets against the stack it sits in front of (moonshot 0.8×)" \
		"$(col afxdp-chain 8)" "≥" 0.5 ×
	target_line "tap-chain: rate at the socket / offered $TAP_RATE Mpps" \
		"$(awk -v m="$(col tap-chain 3)" -v s="$ts" -v c="$(meta_sum tap-chain socket_received)" -v o="$TAP_RATE" \
			'BEGIN { if (s > 0 && o > 0 && c != "") printf "%.3f", m * (c / s) / o }')" "≥" 0.95 ""
	target_line "tap-chain / xdp-limit-pass-paced: the tap's cost at the offered rate, against no xicept paced alike (xdp-limit-pass-paced sent at $(fmt "$(col xdp-limit-pass-paced 3)" %.3f))" \
		"$(col tap-chain 9)" "≥" 0.95 ×
	target_line "afxdp-chain-2q / afxdp-chain: two queues and two threads over one" "$(col afxdp-chain-2q 9)" "≥" 1.6 ×
	target_line "fastpath-filter-stats-pass / xdp-limit-pass" "$(col fastpath-filter-stats-pass 8)" "≥" 0.90 ×
	target_line "daemon CPU a frame, overloaded afxdp-chain (loss-counting; the perf table below breaks it down)" \
		"$(fmt "$(col loss-counting 5)" %.0f)" "≤" 2000 " ns"
	ac=$(meta_sum loss-counting unaccounted)
	target_line "loss counting: sent − (socket + losses + drop reasons), overloaded afxdp-chain" \
		"${ac:+${ac#-}}" "≤" 0 " packets"
}

# The perf breakdown of the overloaded rows (perf_meta in lib.sh): per
# frame, and per batch of 64 (the engine's RX batch: full under overload).
write_perf() {
	local name f
	for name in loss-counting loss-counting-alone loss-counting-nodeliver; do
		[[ -n $(meta_sum "$name" perf_frames) ]] || continue
		f=1
		break
	done
	[[ -n ${f:-} ]] || return 0
	echo "## Where the daemon's time goes (perf, overloaded rows)"
	echo
	echo "perf stat (software events, syscall tracepoints: this VM has no PMU, so no cycles) and perf record -e cpu-clock -g on every thread of the daemon during the overloaded runs, summed over them; a batch is 64 frames. Kernel share: the daemon's stime over utime + stime, and the share of its samples in the kernel. Top symbols: $OUT/perf-NAME.txt (the last run)."
	echo
	echo "| row | frames | CPU ns / frame | syscalls / frame | sendmmsg / batch | sendto / batch | poll / batch | context switches / batch | migrations | kernel share (stime) | kernel share (samples) |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for name in loss-counting loss-counting-alone loss-counting-nodeliver; do
		f=$(meta_sum "$name" perf_frames)
		[[ -n $f && $f -gt 0 ]] || continue
		awk -v n="$name" -v f="$f" -v tc="$(meta_sum "$name" perf_task-clock)" \
			-v sc="$(meta_sum "$name" perf_raw_syscalls_sys_enter)" \
			-v mm="$(meta_sum "$name" perf_syscalls_sys_enter_sendmmsg)" \
			-v st="$(meta_sum "$name" perf_syscalls_sys_enter_sendto)" \
			-v po="$(( $(meta_sum "$name" perf_syscalls_sys_enter_poll) + $(meta_sum "$name" perf_syscalls_sys_enter_ppoll) ))" \
			-v cs="$(meta_sum "$name" perf_context-switches)" -v mg="$(meta_sum "$name" perf_cpu-migrations)" \
			-v ss="$(meta_median "$name" perf_sys_share)" -v ks="$(meta_median "$name" perf_kernel_samples)" 'BEGIN {
			b = f / 64
			printf "| %s | %d | %.0f | %.3f | %.2f | %.2f | %.2f | %.3f | %d | %.2f | %.2f |\n", n, f, tc * 1e6 / f,
				sc / f, mm / b, st / b, po / b, cs / b, mg, ss, ks
		}'
	done
	echo
}

# How the generator sent, from the modes its runs said (lib.sh, gen_mode).
gen_how() {
	local m out=
	for m in $(awk -F'\t' '$1 == "generator" && $2 == "mode" { print $3 }' "$B_TMP/meta"); do
		case $m in
		live) out+="${out:+; }mode live: BPF_PROG_TEST_RUN, live frames, XDP_TX" ;;
		xsk) out+="${out:+; }mode xsk: AF_XDP TX in copy mode, an skb a frame (this kernel refused live-frames test-run), so its rates are not those of live frames" ;;
		*) out+="${out:+; }mode $m" ;;
		esac
	done
	echo "${out:-no run}"
}

write_md() {
	local name lo me hi ns sent counted lim base kind md=$OUT/latest.md
	{
		echo "# make bench — $(date -u +'%Y-%m-%d %H:%M UTC'), $(uname -r), $(nproc) CPUs"
		echo
		echo "Generator: xi-gen ($(gen_how)) on CPU $GEN_CPU, $GEN_FRAME-byte IPv4 RTP frames, $N_SSRCS SSRCs round robin; the receiving veth's XDP runs in the same softirq on the same CPU, so only ratios within this run mean anything. Live rows: $REPEATS interleaved runs of $N_DROP frames (drop) or $N_PASS (socket), min/median/max over runs. \`counted\` is what the measured program itself counted (xicept: \`stats --json\` reasons), summed over runs. Sockets run on CPU $SINK_CPU. The rows of \`xicept run\` (tap-chain, afxdp-chain, loss-counting) run the daemon on CPU $SINK_CPU beside the socket, and pace the generator where a rate is given."
		echo
		echo "## Targets"
		echo
		write_targets
		echo
		echo "## Every row"
		echo
		echo "| scenario | Mpps median (min–max) | ns/pkt | sent | counted | × limit | × baseline | what limits it; where a difference went |"
		echo "|---|---|---|---|---|---|---|---|"
		while read -r name lo me hi ns sent counted; do
			read -r lim base kind <<<"${REF[$name]:-- - mpps}"
			printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$name" \
				"$(fmt "$me" %.3f)$([[ -z $lo || $lo == - ]] || echo " ($(fmt "$lo" %.3f)–$(fmt "$hi" %.3f))")" "$(fmt "$ns" %.1f)" \
				"$sent" "$counted" \
				"$(r=$(col "$name" 8); [[ -z $r ]] || echo "$r (${lim})")" \
				"$(r=$(col "$name" 9); [[ -z $r ]] || echo "$r (${base})")" \
				"${WHY[$name]:-}$(d=$(difference "$name" "$sent" "$counted"); [[ -z $d ]] || echo "; $d")"
		done <"$B_TMP/agg"
		echo
		write_perf
		echo "Units: live rows in Mpps of the measured program's own count over the generator's wall time; ns/pkt is its inverse (one core, generator included), except socket-baseline (its own rate; ns/pkt is its CPU time per datagram). test-run rows (bench_bpf): Mpps = 1000 / ns of one run; testrun-per-stage holds ns per added stage (slope). Install rows: the Mpps columns hold connections per µs and ns/pkt holds ns per connection. Userspace rows: Mpps from wall time, ns/pkt is process CPU time per packet (pion's goroutines and GC included); their ratio is pion's CPU ns over xicept's. tap-chain and afxdp-chain: Mpps is the generator's paced rate (sent over its wall time), × limit against xdp-limit-pass; loss-counting: see its row. deliver rows: ns/pkt is the process's CPU per datagram, Mpps its inverse, × baseline deliver-tun's CPU over this row's. srtp rows: ns/pkt is CPU per operation, Mpps its inverse, × baseline srtp-copy's CPU over this row's (a fraction: how many copies one operation costs is its inverse)."
	} >"$md"
}

write_png() {
	awk -F, 'NR > 1 && $3 != "" && $1 !~ /^(testrun|userspace|pion|conns-.*install)/ {
		print NR - 1, $1, $3, $2, $4 }' "$OUT/latest.csv" | awk '{ $1 = NR - 1; print }' >"$B_TMP/live.dat"
	awk -F, '$1 ~ /^testrun-chain-/ { sub("testrun-chain-", "", $1); print $1, $5 }' "$OUT/latest.csv" \
		>"$B_TMP/testrun.dat"
	awk -F, '$1 ~ /^chain-noop-/ { sub("chain-noop-", "", $1); print $1, $3 }' "$OUT/latest.csv" \
		>"$B_TMP/chain.dat"
	gnuplot <<EOF || [[ -n ${BENCH_ONLY:-} ]] || die "gnuplot failed"   # a few rows may lack the plotted ones
set terminal pngcairo size 1400,900 noenhanced font ",10"
set output "$OUT/latest.png"
set multiplot layout 2,1 title "make bench, $(date -u +%Y-%m-%d): one core, generator included (ratios within a run are what counts)"
set style fill solid 0.5
set boxwidth 0.7
set grid ytics
set ylabel "Mpps (median, min–max)"
set xtics rotate by -35 left
set yrange [0:*]
plot "$B_TMP/live.dat" using 1:3:xtic(2) with boxes notitle lc rgb "#4878a8", \
     "" using 1:3:4:5 with yerrorbars notitle lc rgb "black" pt 0
unset xtics
set xtics
set xlabel "noop stages before ssrc-filter deny (live) / in the chain (test-run)"
set ylabel "test-run ns per packet"
set y2label "live Mpps"
set y2tics
set y2range [0:*]
plot "$B_TMP/testrun.dat" using 1:2 with linespoints title "test-run ns/pkt (bench_bpf)", \
     "$B_TMP/chain.dat" using 1:2 axes x1y2 with linespoints title "live Mpps (chain-noop-K)"
unset multiplot
EOF
}

write_report() {
	progress "writing $OUT/latest.csv, latest.md, latest.png"
	aggregate >"$B_TMP/agg"
	write_csv
	engine_why
	write_md
	write_png
	cat "$OUT/latest.md"
}

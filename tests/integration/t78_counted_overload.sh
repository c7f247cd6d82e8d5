#!/usr/bin/env bash
# No silent loss (issue 9, item 3): an AF_XDP chain overloaded on purpose
# loses packets, and every one of them is counted under a reason.
#
# The daemon is stopped (SIGSTOP) while a burst arrives: its fill and RX
# rings hold RX_FRAMES packets, the rest of the burst finds no frame and is
# lost in the kernel (XDP_STATISTICS). Then it continues, and the test
# requires, exactly:
#   packets sent == datagrams at the application's socket + sum of xicept's losses
# with every packet sent entering the chain in XDP (reason rtp), so nothing
# was lost before the hand-off either. Twice, with a daemon restart between,
# so the totals in the pinned xi_losses survive it. The daemon logs when loss
# starts and when it stops; stats --json and status --json show the losses.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup
# A stopped daemon ignores lib.sh's SIGTERM until it continues: continue it
# first on every way out.
trap 'rc=$?; [ -n "${RUN_PID:-}" ] && kill -CONT "$RUN_PID" 2>/dev/null; (exit $rc); t_cleanup' EXIT

IF=$TB_RX_IF
SSRC=0x5151
SEQ=1000
SENT=0

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
# ssrc-filter after nack-generator runs in the daemon and may drop: the
# chain goes through AF_XDP (a chain of observers only would take the tap).
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" \
  --chain "nack-generator ! ssrc-filter mode=allow ssrc=$SSRC"
expect_eq "$T_RC" 0 "conn add ($T_ERR)"

# send COUNT RATE: COUNT packets of SSRC, sequence numbers going on from the
# last call; SENT counts what the sender says it sent.
send() {
  local out
  out=$(tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc "$SSRC" --seq $((SEQ & 0xffff)) \
    --count "$1" --rate "$2" --size 200) || fail "xi-rtp-send failed"
  SENT=$((SENT + $(jq .sent <<<"$out")))
  SEQ=$((SEQ + $1))
}

# losses_sum FILE: the sum of the losses object of a stats --json document.
losses_sum() { jq '[.losses[]] | add' "$1"; }

# wait_log REGEX COUNT: until the daemon's log has COUNT lines matching, 5 s at most.
wait_log() {
  for _ in $(seq 100); do
    [ "$(grep -cE "$1" "$RUN_LOG")" -ge "$2" ] && return 0
    sleep 0.05
  done
  fail "the daemon did not log /$1/ ${2} times: $(tail -5 "$RUN_LOG")"
}

# overload ROUND: paced, a burst into a stopped daemon, paced again.
overload() {
  send 300 2000
  kill -STOP "$RUN_PID" || fail "cannot stop the daemon"
  # Until the kernel says it is stopped, it might still read.
  for _ in $(seq 100); do
    [[ $(ps -o stat= -p "$RUN_PID") =~ ^[[:space:]]*T ]] && break
    sleep 0.01
  done
  send 8000 40000   # twice the 4096 frames of its rings
  kill -CONT "$RUN_PID" || fail "cannot continue the daemon"
  send 300 2000
  # Loss started and stopped, in this daemon's log: one line each per round.
  wait_log "xicept run\[$RUN_PID\]: loss: [0-9]+ packets in the last [0-9.]+ s \((rx_ring_full|fill_empty|rx_dropped) " 1
  wait_log "xicept run\[$RUN_PID\]: loss stopped after [0-9]+ packets" 1
}

# nice_is WANT: the packet thread (thread 0, the daemon's main thread) gets
# WANT once the engine runs, which is just after the "running on" line.
nice_is() {
  local n
  for _ in $(seq 40); do
    n=$(awk '{ print $19 }' "/proc/$RUN_PID/stat")
    [ "$n" = "$1" ] && break
    sleep 0.05
  done
  expect_eq "$n" "$1" "the packet thread's nice ($2)"
}

# The sink idles out 5 s after the last datagram: longer than a restart takes.
sink_start 5004 --idle 5
run_start
nice_is -10 "run's default"
overload 1
run_stop TERM
# Restarted: new sockets count from zero, xi_losses keeps adding.
RUN_ARGS="--nice inherit" run_start
nice_is "$(nice)" "--nice inherit"
overload 2
run_stop TERM
sink_wait 5004

xi stats "$IF" --json >"$T_TMP/stats.json" || fail "xicept stats failed"
delivered=$(jq .packets "$T_TMP/sink-5004.json")
lost=$(losses_sum "$T_TMP/stats.json")
echo "# sent $SENT, delivered $delivered, lost $lost: $(jq -c .losses "$T_TMP/stats.json")"

# Everything sent was handed to the AF_XDP path: no loss before it, no policy.
expect_eq "$(jq .reasons.rtp "$T_TMP/stats.json")" "$SENT" "packets XDP handed over (reason rtp)"
expect_eq "$(jq .reasons.no_daemon "$T_TMP/stats.json")" 0 "packets with no daemon"
expect_eq "$(jq .reasons.ssrc_drop "$T_TMP/stats.json")" 0 "packets ssrc-filter dropped"
# The overload did lose packets, in the kernel...
[ "$lost" -gt 0 ] || fail "no loss counted: the overload did not overload"
t_ok
# ...and every packet is accounted for.
expect_eq "$((delivered + lost))" "$SENT" "delivered ($delivered) + lost ($lost) against sent"
expect_eq "$(jq '.losses | keys_unsorted | join(",")' -r "$T_TMP/stats.json")" \
  "rx_ring_full,fill_empty,rx_dropped,rx_invalid,chain_error,bad_meta,deliver_failed,tx_failed" \
  "loss reasons in stats --json"
for r in chain_error bad_meta deliver_failed tx_failed; do
  expect_eq "$(jq ".losses.$r" "$T_TMP/stats.json")" 0 "losses.$r"
done

# Each daemon's summary and its "stopped" line add up to what it counted.
summed=0
while read -r n; do summed=$((summed + n)); done < <(
  grep -oE "stopped: .* ([0-9]+) lost" "$RUN_LOG" | grep -oE "[0-9]+ lost" | grep -oE "^[0-9]+")
expect_eq "$summed" "$lost" "losses in the daemons' summaries"
summed=0
while read -r n; do summed=$((summed + n)); done < <(
  grep -oE "loss stopped after [0-9]+ packets" "$RUN_LOG" | grep -oE "[0-9]+")
expect_eq "$summed" "$lost" "losses in the 'loss stopped' lines"

# status shows them too.
t_run xi status --json
expect_eq "$(jq --arg i "$IF" '[.interfaces[] | select(.interface == $i) | .losses[]] | add' <<<"$T_OUT")" \
  "$lost" "losses in status --json"
t_run xi status
expect_match "$T_OUT" "lost +$lost \(" "losses in status"
t_run xi stats "$IF"
expect_match "$T_OUT" "$IF losses:" "losses in stats"

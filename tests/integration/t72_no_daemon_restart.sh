#!/usr/bin/env bash
# Without `xicept run`, packets of stateful chains follow the no-daemon
# policy and are counted; starting it again resumes without a new attach;
# connections added or removed while it runs take effect within a second; a
# daemon killed outright still leaves its packets to the policy.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
# header-stats after nack-generator: it counts only what the daemon ran.
CHAIN='nack-generator ! header-stats'                      # observers: the tap
AFXDP_CHAIN='nack-generator ! ssrc-filter mode=deny ssrc=1'  # can drop: AF_XDP

# send_check PORT SSRC N WANT: N datagrams sent, WANT of them must arrive.
send_check() {
  udp_recv "$1" "$T_TMP/got-$2"
  udp_send "$1" "$T_TMP/sent-$2" "$2" "$3" "$2"
  wait "$RECV_PID"
  expect_eq "$(wc -l <"$T_TMP/got-$2")" "$4" "datagrams of SSRC $2 received"
  if [ "$4" -eq "$3" ]; then
    cmp -s "$T_TMP/sent-$2" "$T_TMP/got-$2" || fail "datagrams of SSRC $2 differ"
    t_ok
  fi
}

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain "$CHAIN"
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT

# No daemon yet: pass, counted, not run.
send_check 5004 101 30 30
expect_eq "$(reason no_daemon)" 30 "no_daemon before the first start"
expect_eq "$(stats_get "$id" 101 packets)" 0 "header-stats without the daemon"

run_start
send_check 5004 102 40 40
expect_eq "$(reason no_daemon)" 30 "no_daemon with the daemon"
expect_eq "$(stats_get "$id" 102 packets)" 40 "header-stats with the daemon"

# A connection added while it runs is served within a second.
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --chain "$CHAIN"
expect_eq "$T_RC" 0 "conn add while running ($T_ERR)"
id2=$T_OUT
sleep 1
send_check 5006 103 25 25
expect_eq "$(stats_get "$id2" 103 packets)" 25 "header-stats of the added connection"
expect_eq "$(reason no_daemon)" 30 "no_daemon after the add"
grep -q "connection $id2: added" "$RUN_LOG" || fail "the daemon did not log the new connection"
t_ok
t_run xi conn del "$IF" "$id2"
expect_eq "$T_RC" 0 "conn del while running ($T_ERR)"
sleep 1
grep -q "connection $id2: removed" "$RUN_LOG" || fail "the daemon did not log the removal"
t_ok

# Stopped and started again: no new attach needed.
run_stop TERM
send_check 5004 104 10 10
expect_eq "$(reason no_daemon)" 40 "no_daemon after the stop"
run_start
send_check 5004 105 20 20
expect_eq "$(stats_get "$id" 105 packets)" 20 "header-stats after the restart"
expect_eq "$(reason no_daemon)" 40 "no_daemon after the restart"

# Killed outright: the stage stays in its slot, but its sockets closed with
# the process, so xi_to_user finds none and applies the policy itself.
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
send_check 5004 106 15 15
expect_eq "$(reason no_daemon)" 55 "no_daemon after a crash"

# The drop policy: counted, and nothing reaches the receiver.
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
t_run xi attach "$IF" --no-daemon drop
expect_eq "$T_RC" 0 "attach --no-daemon drop ($T_ERR)"
# The drop policy holds what only a daemon may pass: a chain whose userspace
# part can drop (ssrc-filter after nack-generator) goes through AF_XDP.
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain "$AFXDP_CHAIN"
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
send_check 5004 107 12 0
expect_eq "$(reason no_daemon)" 12 "no_daemon with the drop policy"
# Observers never hold media: a tap chain passes whatever the policy.
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --chain "$CHAIN"
expect_eq "$T_RC" 0 "conn add of a tap chain ($T_ERR)"
send_check 5006 109 12 12
expect_eq "$(reason no_daemon)" 24 "no_daemon of the tap chain, passed"
run_start
send_check 5004 108 12 12
run_stop INT

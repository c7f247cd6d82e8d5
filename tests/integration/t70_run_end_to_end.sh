#!/usr/bin/env bash
# xicept run: through ssrc-filter ! nack-generator ! header-stats, N RTP
# packets in are N datagrams at the receiver's socket, byte for byte and in
# order. ssrc-filter runs in XDP, header-stats after the stateful element
# runs in the daemon as its C twin against the same maps. SIGTERM and SIGINT
# stop the daemon within a second with status 0.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

N=400
IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" \
  --chain 'ssrc-filter ssrc=0x1111 ! nack-generator ! header-stats'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT

run_start
udp_recv 5004 "$T_TMP/got"
udp_send 5004 "$T_TMP/sent" 0x1111 "$N" 7
# Another SSRC: ssrc-filter drops it in XDP, before the daemon sees it.
udp_send 5004 "$T_TMP/other" 0x2222 50 8
wait "$RECV_PID"

expect_eq "$(wc -l <"$T_TMP/sent")" "$N" "datagrams sent"
expect_eq "$(wc -l <"$T_TMP/got")" "$N" "datagrams received"
cmp -s "$T_TMP/sent" "$T_TMP/got" || fail "received datagrams differ from those sent"
t_ok
expect_eq "$(reason rtp)" $((N + 50)) "rtp reason"
expect_eq "$(reason ssrc_drop)" 50 "ssrc_drop reason"
expect_eq "$(reason no_daemon)" 0 "no_daemon reason"
# header-stats sits after nack-generator: only the daemon can have counted.
expect_eq "$(stats_get "$id" 4369 rtp_packets)" "$N" "header-stats rtp_packets"
expect_eq "$(stats_get "$id" 4369 lost)" 0 "header-stats lost"
expect_eq "$(stats_get "$id" 4369 bytes)" \
  "$(awk '{ n += length($0) / 2 } END { print n }' "$T_TMP/sent")" "header-stats bytes"
expect_eq "$(stats_get "$id" 8738 packets)" 0 "header-stats packets of the filtered SSRC"
run_stop TERM
# Observers only after the XDP part: the tap path, so the daemon observed
# copies and delivered nothing; the packets went on in the kernel.
expect_eq "$(xi conn list "$IF" --json | jq -r '.connections[0].path')" tap "the connection's path"
expect_match "$(tail -1 "$RUN_LOG")" "stopped: $N frames, 0 delivered \(0 changed\), $N observed \(tap\), 0 dropped" \
  "daemon summary"
# Stopped: the no_daemon policy (pass) applies again, counted.
udp_recv 5004 "$T_TMP/got2"
udp_send 5004 "$T_TMP/sent2" 0x1111 20 9
wait "$RECV_PID"
cmp -s "$T_TMP/sent2" "$T_TMP/got2" || fail "datagrams passed without the daemon differ"
t_ok
expect_eq "$(reason no_daemon)" 20 "no_daemon reason after the stop"

run_start
run_stop INT

#!/usr/bin/env bash
# The tap: a chain whose userspace part only observes gets copies through the
# ring buffer while the packets themselves go on at once. 100,000 packets
# with chosen gaps (the sequence numbers wrap once, so gaps below 34,464 come
# twice): the application's socket gets every packet sent, header-stats in XDP
# counts every one, the NACKs list exactly the missing sequence numbers once
# each and the last receiver report has the exact loss. Then the daemon is
# killed mid-stream: the socket still gets every packet.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
SKIP="1000,2000-2004,40000,60000"
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --stream 0x1234:96:90000 \
  --chain 'header-stats ! nack-generator size=8192 interval=20ms max-nacks=1 sender-ssrc=0xabc ! receiver-report interval=500ms sender-ssrc=0xdef'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
expect_eq "$(xi conn list "$IF" --json | jq -r '.connections[0].path')" tap "the connection's path"
run_start

tx_capture_start "udp src port 5004"
sink_start 5004 --idle 1 --duration 30
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x1234 --seq 0 --count 100000 --skip "$SKIP" \
  --rate 25000 --from-port 6000 >"$T_TMP/send.json" || fail "xi-rtp-send"
sink_wait 5004
sleep 1.2   # one more receiver report after the last packet
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM

sent=$(jq .sent "$T_TMP/send.json")
expect_eq "$sent" 99986 "packets sent (100,000 less 6 twice and 2 once)"
expect_eq "$(sink_get 5004 4660 packets)" "$sent" "packets at the application's socket"
expect_eq "$(stats_get "$id" 4660 packets)" "$sent" "packets header-stats counted in XDP"
expect_eq "$(reason tap_full)" 0 "records the ring had no room for"
grep -q "stopped: $sent frames" "$RUN_LOG" || fail "the daemon did not observe every packet: $(tail -1 "$RUN_LOG")"
t_ok

tshark_fields "rtcp.rtpfb.fmt == 1" -e rtcp.rtpfb.nack_pid >"$T_TMP/nack.txt"
expect_eq "$(tr ',' ' ' <"$T_TMP/nack.txt" | xargs)" \
  "1000 2000 2001 2002 2003 2004 40000 60000 1000 2000 2001 2002 2003 2004" \
  "NACKed sequence numbers, in order, each once"
# The extended highest sequence number, as tshark splits it: 1 cycle, 34463.
tshark_fields "rtcp.pt == 201" -e rtcp.senderssrc -e rtcp.ssrc.identifier \
  -e rtcp.ssrc.cum_nr -e rtcp.ssrc.high_cycles -e rtcp.ssrc.high_seq >"$T_TMP/rr.txt"
expect_eq "$(tail -1 "$T_TMP/rr.txt")" "0x00000def 0x00001234 14 1 34463" "last receiver report"

# Killed mid-stream: media does not wait for, or die with, the observer.
run_start
sink_start 5006 --idle 1 --duration 30
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --chain 'nack-generator ! receiver-report'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
sleep 0.5   # the daemon picks the connection up
tb_tx "$SEND" --to "$TB_RX_IP:5006" --ssrc 0x5678 --seq 0 --count 20000 --rate 10000 \
  --from-port 6002 >"$T_TMP/send2.json" &
SEND_PID=$!
T_PIDS+=("$SEND_PID")
sleep 1
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
wait "$SEND_PID" || fail "xi-rtp-send"
sink_wait 5006
expect_eq "$(jq .sent "$T_TMP/send2.json")" 20000 "packets sent around the kill"
expect_eq "$(sink_get 5006 22136 packets)" 20000 "packets at the socket despite the kill"
[ "$(reason no_daemon)" -gt 0 ] || fail "packets after the kill were not counted as no_daemon"
t_ok

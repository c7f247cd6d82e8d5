#!/usr/bin/env bash
# Emitted RTCP, decoded by tshark in the sender's namespace: a stream with
# known gaps gives NACKs listing exactly the missing sequence numbers (each
# once, with max-nacks=1), and receiver reports for the stream; every one
# from the connection's local endpoint to the sender's, with good IP and UDP
# checksums.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
SKIP="105,110-112,150,199,200,230-240"
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --stream 0x1234:96:90000 \
  --chain 'nack-generator max-nacks=1 sender-ssrc=0xabc ! receiver-report interval=200ms sender-ssrc=0xdef'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
run_start

tx_capture_start "udp src port 5004"
sink_start 5004 --idle 1 --duration 20
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x1234 --seq 100 --count 200 --skip "$SKIP" \
  --rate 400 --from-port 6000 >"$T_TMP/send.json" || fail "xi-rtp-send"
sink_wait 5004
sleep 0.5
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM

expect_eq "$(jq .sent "$T_TMP/send.json")" 182 "packets sent"
expect_eq "$(sink_get 5004 4660 packets)" 182 "packets at the receiver"


# NACK: tshark lists, under rtcp.rtpfb.nack_pid, every sequence number a
# NACK asks for: each PID and each one its BLP bits name.
tshark_fields "rtcp.rtpfb.fmt == 1" -e rtcp.rtpfb.nack_pid >"$T_TMP/nack.txt"
nacked=$(tr ',' ' ' <"$T_TMP/nack.txt" | xargs)
expected=$(python3 -c "
s = []
for p in '$SKIP'.split(','):
    a, _, b = p.partition('-')
    s += list(range(int(a), int(b or a) + 1))
print(' '.join(map(str, s)))")
expect_eq "$nacked" "$expected" "NACKed sequence numbers, in order, each once"
expect_eq "$(tshark_fields "rtcp.rtpfb.fmt == 1" -e rtcp.senderssrc -e rtcp.mediassrc | sort -u)" \
  "0x00000abc 0x00001234" "NACK sender and media SSRC"

# Receiver reports: at least one, for our stream, with the final counts.
tshark_fields "rtcp.pt == 201" -e rtcp.senderssrc -e rtcp.ssrc.identifier \
  -e rtcp.ssrc.cum_nr -e rtcp.ssrc.high_seq >"$T_TMP/rr.txt"
[ -s "$T_TMP/rr.txt" ] || fail "no receiver report captured"
t_ok
expect_eq "$(tail -1 "$T_TMP/rr.txt")" "0x00000def 0x00001234 18 299" "last receiver report"

# Addresses and checksums of everything the daemon sent.
expect_eq "$(tshark_fields "udp" -e ip.src -e udp.srcport -e ip.dst -e udp.dstport \
  -e ip.checksum.status -e udp.checksum.status | sort -u)" \
  "$TB_RX_IP 5004 $TB_TX_IP 6000 1 1" "addresses and checksum status (1: good)"

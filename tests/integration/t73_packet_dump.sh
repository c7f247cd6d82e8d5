#!/usr/bin/env bash
# packet-dump under `xicept run`: its pcap decodes in tshark with the
# expected packet count, the frames as received (the sender's addresses),
# and the RTP sequence numbers that were sent.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
mkdir -p "$T_TMP/dump"
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain "packet-dump dir=$T_TMP/dump"
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
run_start
sink_start 5004 --idle 1 --duration 20
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x7777 --seq 65500 --count 80 --skip 65530-65534 \
  --rate 500 --from-port 6100 >"$T_TMP/send.json" || fail "xi-rtp-send"
sink_wait 5004
expect_eq "$(sink_get 5004 30583 packets)" 75 "packets at the receiver"
run_stop TERM   # packet-dump flushes on close

pcap=$T_TMP/dump/xicept-$id-0.pcap
[ -s "$pcap" ] || fail "no pcap at $pcap: $(ls "$T_TMP/dump")"
t_ok
expect_eq "$(tshark -r "$pcap" -d udp.port==5004,rtp 2>/dev/null | wc -l)" 75 "frames in the pcap"
expect_eq "$(tshark -r "$pcap" -d udp.port==5004,rtp -T fields -e ip.src -e udp.srcport \
  -e ip.dst -e udp.dstport -e rtp.ssrc 2>/dev/null | sort -u)" \
  "$TB_TX_IP	6100	$TB_RX_IP	5004	0x00007777" "addresses and SSRC"
expect_eq "$(tshark -r "$pcap" -d udp.port==5004,rtp -T fields -e rtp.seq 2>/dev/null | xargs)" \
  "$(python3 -c "print(' '.join(str((65500 + i) & 0xffff) for i in range(80) if not 30 <= i <= 34))")" \
  "RTP sequence numbers in the pcap"

# An observer: its connection takes the tap, which copies whole frames for
# it. Byte for byte as sent, and with snap=100 each record cut at 100 bytes
# with the frame's real length kept, as tcpdump -s and xdpdump do.
expect_eq "$(xi conn list "$IF" --json | jq -r '.connections[0].path')" tap "packet-dump's path"
expect_eq "$(tshark -r "$pcap" -T fields -e frame.len -e frame.cap_len 2>/dev/null | sort -u)" \
  "$((14 + 20 + 8 + 12 + 160))	$((14 + 20 + 8 + 12 + 160))" "frames kept whole (len, captured)"
mkdir -p "$T_TMP/snap"
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --chain "packet-dump dir=$T_TMP/snap snap=100"
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id2=$T_OUT
run_start
sink_start 5006 --idle 1 --duration 20
tb_tx "$SEND" --to "$TB_RX_IP:5006" --ssrc 0x7778 --seq 0 --count 20 --rate 500 \
  --from-port 6102 >/dev/null || fail "xi-rtp-send"
sink_wait 5006
run_stop TERM
expect_eq "$(tshark -r "$T_TMP/snap/xicept-$id2-0.pcap" -T fields -e frame.len -e frame.cap_len \
  2>/dev/null | sort | uniq -c | xargs)" "20 $((14 + 20 + 8 + 12 + 160)) 100" \
  "records cut at snap=100, real lengths kept"
expect_eq "$(tshark -r "$T_TMP/snap/xicept-$id2-0.pcap" -d udp.port==5006,rtp -T fields \
  -e rtp.seq 2>/dev/null | xargs)" "$(seq -s ' ' 0 19)" "RTP sequence numbers of the cut records"

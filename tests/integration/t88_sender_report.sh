#!/usr/bin/env bash
# sender-report with real packets and tshark. An application in the rx
# namespace sends RTP from the connection's local endpoint (paced at 500
# packets/s, its timestamps at 90 kHz: 180 a packet). The peer's capture:
#   - every SR's packet and octet counts are at most what tshark counted
#     leaving before it, and the SRs after the stream ended count exactly
#     what left (1,500 packets, 1,500 x 160 octets);
#   - the RTP timestamps of two SRs after the end differ by their NTP
#     times' difference at 90 kHz, within 1 ms, and the last SR's RTP
#     timestamp is the last packet's extrapolated to the SR's NTP time from
#     the packet's capture time, within 1 ms.
# Then the peer answers an SR with an RR whose LSR echoes it and whose DLSR
# is its hold time less 50 ms: xicept's rtt_ms is A - LSR - DLSR as the peer
# computes it (within 1 ms), with the RR's fraction lost, cumulative loss
# and jitter per local SSRC in stats --json.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup
command -v tshark >/dev/null || fail "tshark is missing"

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:7000" \
  --local-stream 0x5678:96:90000 --chain 'header-stats ! sender-report interval=400ms'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
run_start

tx_capture_start "udp port 7000"
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x5678 --seq 1000 --count 1500 \
  --size 160 --ts-step 180 --rate 500 >"$T_TMP/send.json" || fail "xi-rtp-send"
sleep 1.5   # three more reports after the last packet
kill -TERM "$CAP"
wait "$CAP"

ts_args=(-o rtp.heuristic_rtp:TRUE -o rtcp.heuristic_rtcp:TRUE -o udp.check_checksum:TRUE)
tshark -r "$T_TMP/tx.pcapng" "${ts_args[@]}" -Y "rtp.ssrc == 0x5678 || rtcp.pt == 200" \
  -T fields -E separator=/t -e frame.time_epoch -e rtcp.pt -e rtp.timestamp \
  -e rtcp.sender.packetcount -e rtcp.sender.octetcount -e rtcp.timestamp.ntp.msw \
  -e rtcp.timestamp.ntp.lsw -e rtcp.timestamp.rtp -e udp.checksum.status \
  >"$T_TMP/cap.txt" 2>/dev/null || fail "tshark"
rtp=$(awk -F'\t' '$2 == "" && $3 != ""' "$T_TMP/cap.txt" | wc -l)
expect_eq "$rtp" 1500 "RTP packets tshark saw leaving"
srs=$(awk -F'\t' '$2 == "200"' "$T_TMP/cap.txt" | wc -l)
[ "$srs" -ge 6 ] || fail "only $srs sender reports"
t_ok
[ -z "$(awk -F'\t' '$2 == "200" && $NF != "1"' "$T_TMP/cap.txt")" ] || fail "an SR with a bad UDP checksum"
t_ok
# Counts against what left before each SR; exact once the stream ended.
out=$(awk -F'\t' '
  $2 == "" && $3 != "" { n++; last_t = $1; last_ts = $3 }
  $2 == "200" {
    if ($4 > n || $5 != $4 * 160) { print "SR " NR ": " $4 " packets " $5 " octets, " n " left before it"; exit }
    if ($1 > last_t + 0.2) {
      if ($4 != n) { print "SR after the end counts " $4 ", " n " left"; exit }
      ntp = $6 + $7 / 4294967296.0 - 2208988800
      after++
      if (after == 1) { t1 = ntp; r1 = $8 }
      if (after >= 2) {
        d = ($8 - r1) / 90000.0 - (ntp - t1)
        if (d > 0.001 || d < -0.001) { printf "SR RTP timestamps off by %.6f s\n", d; exit }
      }
      e = ($8 - last_ts) / 90000.0 - (ntp - last_t)
      if (e > 0.001 || e < -0.001) { printf "SR RTP timestamp off the last packet by %.6f s\n", e; exit }
    }
  }
  END { if (after < 2) print "fewer than two SRs after the end" }' "$T_TMP/cap.txt")
[ -z "$out" ] || fail "$out"
t_ok
last=$(awk -F'\t' '$2 == "200" { p = $4; o = $5 } END { print p, o }' "$T_TMP/cap.txt")
expect_eq "$last" "1500 240000" "the last SR's packet and octet counts"
expect_eq "$(stats_get "$id" 22136 sent_packets)" 1500 "header-stats: packets leaving"

# RTT: the peer holds an SR, then answers with an RR (LSR: the SR's middle
# NTP bits; DLSR: its hold time less 50 ms).
tb_tx python3 - "$TB_TX_IP" 7000 "$TB_RX_IP" 5004 >"$T_TMP/rtt.txt" <<'PY' &
import socket, struct, sys, time
ip, port, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, port))
s.settimeout(10)
def ntp_mid(t):
    v = int((t + 2208988800) * 65536) & 0xffffffff
    return v
while True:
    d = s.recv(2048)
    if len(d) >= 28 and d[1] == 200:
        got = time.time()
        msw, lsw = struct.unpack("!II", d[8:16])
        lsr = ((msw & 0xffff) << 16) | (lsw >> 16)
        break
time.sleep(0.3)
sent = time.time()
dlsr = int((sent - got - 0.050) * 65536)
block = struct.pack("!IIIIII", 0x5678, (64 << 24) | 17, 1234, 99, lsr, dlsr)
rr = struct.pack("!BBHI", 0x81, 201, 7, 0x7777) + block
s.sendto(rr, (dst, dport))
expect = ((ntp_mid(sent) - lsr - dlsr) & 0xffffffff) * 1000.0 / 65536
print("%.3f" % expect)
PY
PEER=$!
T_PIDS+=("$PEER")
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x5678 --seq 3000 --count 500 \
  --size 160 --ts-step 180 --rate 500 >/dev/null || fail "xi-rtp-send"
wait "$PEER" || fail "the RTT peer failed"
sleep 0.3
run_stop TERM
want=$(cat "$T_TMP/rtt.txt")
got=$(stats_get "$id" 22136 rtt_ms)
awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; exit !(d < 1 && d > -1 && b > 49) }' ||
  fail "rtt_ms: expected $want (within 1 ms), got $got"
t_ok
expect_eq "$(stats_get "$id" 22136 direction)" '"out"' "direction"
expect_eq "$(stats_get "$id" 22136 remote_fraction_lost)" 0.25 "remote_fraction_lost"
expect_eq "$(stats_get "$id" 22136 remote_lost)" 17 "remote_lost"
expect_eq "$(stats_get "$id" 22136 remote_jitter)" 99 "remote_jitter"
expect_eq "$(stats_get "$id" 22136 remote_reports)" 1 "report blocks received"

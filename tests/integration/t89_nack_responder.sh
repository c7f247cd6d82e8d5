#!/usr/bin/env bash
# nack-responder with a real peer. An application in the rx namespace sends
# two local streams from the connection's local endpoint, 200 packets each:
# 0x5678 with rtx=0x5679/97 and 0x7777 without. The peer then NACKs chosen
# sequence numbers; nack-responder keeps 128 packets a stream (72..199).
# What the peer receives afterwards is exactly: RTX packets (PT 97, SSRC
# 0x5679, consecutive RTX sequence numbers) whose OSN fields are the asked
# and held numbers of 0x5678, in order, each with the original payload; and
# the original packets (same bytes as first sent) of the asked and held
# numbers of 0x7777. Misses are counted. Malformed RTCP (a truncated NACK, a
# NACK whose FCI overruns the datagram, an RTPFB of unknown FMT) is counted
# under its reason and never acted on.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:7000" \
  --local-stream 0x5678:96:90000:rtx=0x5679/97 --local-stream 0x7777:111:48000 \
  --chain 'nack-responder size=128'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
expect_eq "$(xi conn list "$IF" --json | jq -r '.connections[0].path')" tap "the connection's path"
run_start

tb_tx python3 - "$TB_TX_IP" 7000 "$TB_RX_IP" 5004 "$T_TMP/peer.ready" >"$T_TMP/peer.json" \
  2>"$T_TMP/peer.err" <<'PY' &
import json, socket, struct, sys, time
ip, port, dst, dport, ready = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), sys.argv[5]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((ip, port))
open(ready, "w").close()
orig = {}
s.settimeout(10)
while len(orig) < 400:
    d = s.recv(4096)
    ssrc, seq = struct.unpack("!I", d[8:12])[0], struct.unpack("!H", d[2:4])[0]
    orig[(ssrc, seq)] = d
time.sleep(0.5)   # the daemon has observed them
def nack(media, pairs, length=None, fmt=1):
    body = b"".join(struct.pack("!HH", p, b) for p, b in pairs)
    n = length if length is not None else 2 + len(pairs)
    return struct.pack("!BBHII", 0x80 | fmt, 205, n, 0xabcd, media) + body
out = s.sendto
s.sendto(nack(0x5678, [(150, 0b11), (170, 0), (199, 0), (3, 0), (60, 0)]), (dst, dport))
s.sendto(nack(0x7777, [(120, 0b1), (10, 0)]), (dst, dport))
s.sendto(nack(0x5678, []), (dst, dport))                    # truncated: no FCI
s.sendto(nack(0x5678, [(160, 0)], length=6), (dst, dport))  # FCI count overruns
s.sendto(nack(0x5678, [(161, 0)], fmt=3), (dst, dport))     # unknown FMT
got = []
s.settimeout(1.5)
try:
    while True:
        d = s.recv(4096)
        pt, seq = d[1] & 0x7f, struct.unpack("!H", d[2:4])[0]
        ssrc = struct.unpack("!I", d[8:12])[0]
        e = {"pt": pt, "ssrc": ssrc, "seq": seq, "len": len(d)}
        if ssrc == 0x5679:
            osn = struct.unpack("!H", d[12:14])[0]
            e["osn"] = osn
            o = orig.get((0x5678, osn))
            e["same_payload"] = o is not None and d[14:] == o[12:] and d[4:8] == o[4:8]
        else:
            e["same_bytes"] = orig.get((ssrc, seq)) == d
        got.append(e)
except socket.timeout:
    pass
print(json.dumps(got))
PY
PEER=$!
T_PIDS+=("$PEER")
for _ in $(seq 100); do [ -e "$T_TMP/peer.ready" ] && break; sleep 0.05; done
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x5678 --seq 0 --count 200 \
  --size 160 --rate 2000 >/dev/null || fail "xi-rtp-send"
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x7777 --pt 111 --seq 0 --count 200 \
  --size 100 --rate 2000 >/dev/null || fail "xi-rtp-send"
wait "$PEER" || fail "the peer failed: $(cat "$T_TMP/peer.err")"
run_stop TERM

P=$T_TMP/peer.json
expect_eq "$(jq -c '[.[] | select(.ssrc == 22137) | .osn]' "$P")" "[150,151,152,170,199]" \
  "OSNs of the RTX packets"
expect_eq "$(jq -c '[.[] | select(.ssrc == 22137) | .pt] | unique' "$P")" "[97]" "RTX payload type"
expect_eq "$(jq '[.[] | select(.ssrc == 22137) | .same_payload] | all' "$P")" true \
  "RTX payloads are the originals' (and timestamps)"
expect_eq "$(jq '[.[] | select(.ssrc == 22137) | .len] | unique | .[0]' "$P")" $((12 + 2 + 160)) \
  "RTX length: header, OSN, payload"
expect_eq "$(jq -c '[.[] | select(.ssrc == 22137) | .seq] | [.[1:][] as $x | $x] | length' "$P")" 4 \
  "RTX packets after the first"
expect_eq "$(jq -c '[.[] | select(.ssrc == 22137) | .seq] as $s | [range(1; $s | length) | ($s[.] - $s[. - 1]) % 65536] | unique' "$P")" \
  "[1]" "consecutive RTX sequence numbers"
expect_eq "$(jq -c '[.[] | select(.ssrc == 30583) | .seq]' "$P")" "[120,121]" \
  "originals retransmitted without rtx="
expect_eq "$(jq '[.[] | select(.ssrc == 30583) | .same_bytes] | all' "$P")" true \
  "retransmitted originals are byte for byte what was sent"
expect_eq "$(jq 'length' "$P")" 7 "packets the peer got after its NACKs"

expect_eq "$(stats_get "$id" 22136 nack_requested)" 7 "0x5678: sequence numbers asked"
expect_eq "$(stats_get "$id" 22136 nack_resent)" 5 "0x5678: retransmitted"
expect_eq "$(stats_get "$id" 22136 nack_missed)" 2 "0x5678: misses (3 and 60)"
expect_eq "$(stats_get "$id" 30583 nack_requested)" 3 "0x7777: sequence numbers asked"
expect_eq "$(stats_get "$id" 30583 nack_resent)" 2 "0x7777: retransmitted"
expect_eq "$(stats_get "$id" 30583 nack_missed)" 1 "0x7777: misses (10)"
expect_eq "$(stats_get "$id" 22136 direction)" '"out"' "direction of a local stream"
xi stats "$IF" --json >"$T_TMP/stats.json"
expect_eq "$(jq -c .rtcp_ignored "$T_TMP/stats.json")" \
  '{"malformed":0,"truncated":1,"fci_overrun":1,"unknown_fmt":1,"srtcp_auth":0,"srtcp_replay":0,"srtcp_no_keys":0}' "RTCP ignored, by reason"

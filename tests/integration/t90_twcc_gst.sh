#!/usr/bin/env bash
# twcc against GStreamer. rtpbin in the tx namespace sends VP8 whose packets
# carry the transport-wide sequence number (rtphdrext-twcc, extension id 5)
# and takes RTCP back on its RTP port. xicept's twcc interceptor sends
# transport-cc feedback (RTPFB FMT 15). From the sender's capture, tshark
# decodes every feedback: together they cover the transport-wide numbers
# of every packet sent, once each, each "received", with deltas between 0
# and 100 ms. GStreamer parses them all (no "Malformed"), matches them to
# what it sent, and its TWCC stats count no loss. A second run drops chosen
# packets after the sender (a tc filter on its veth): exactly those numbers
# are "not received", and GStreamer's parse marks exactly those lost.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup
for tool in gst-launch-1.0 tshark dumpcap clang tc bpftool unshare; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
gst_ready rtpbin videotestsrc vp8enc rtpvp8pay udpsink udpsrc fakesink

URI=http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
SSRC=4660
DROP=20,21,22,57,90
IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:6000" \
  --chain 'twcc ext-id=5 interval=100ms sender-ssrc=0x7c7c'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5006" --remote "$TB_TX_IP:6002" \
  --chain 'twcc ext-id=5 interval=100ms sender-ssrc=0x7c7d'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
run_start

# gst PORT SRCPORT: 150 frames at 50/s; the rtpsession debug log (its TWCC
# parsing) in $T_TMP/gst-PORT.log. The frames take 3 s; now and then the
# pipeline does not reach EOS afterwards (rtpbin with a live source and an
# RTCP udpsrc that never ends), so it is interrupted after 8 s: what is
# checked happened by then, and a run cut short shows as missing packets.
gst() {
  local rc
  GST_DEBUG=rtpsession:6 GST_DEBUG_NO_COLOR=1 tb_tx timeout -s INT 8 gst-launch-1.0 -q rtpbin name=r \
    videotestsrc num-buffers=150 is-live=true ! video/x-raw,width=160,height=120,framerate=50/1 \
    ! vp8enc deadline=1 ! rtpvp8pay ssrc=$SSRC pt=96 mtu=1200 ! "application/x-rtp,extmap-5=$URI" \
    ! r.send_rtp_sink_0 \
    r.send_rtp_src_0 ! udpsink host="$TB_RX_IP" port="$1" bind-port="$2" \
    r.send_rtcp_src_0 ! fakesink async=false \
    udpsrc address="$TB_TX_IP" port="$2" ! application/x-rtcp ! r.recv_rtcp_sink_0 \
    >"$T_TMP/gst-$1.log" 2>&1
  rc=$?
  [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || fail "gst-launch on port $1 (exit $rc): $(tail -3 "$T_TMP/gst-$1.log")"
  [ "$(grep -c 'Send: twcc-seqnum' "$T_TMP/gst-$1.log")" -ge 140 ] ||
    fail "gst-launch on port $1 sent too few packets"
}

# fb PORT: "seq status delta_ms" of every packet of every feedback to the
# sender (status 1 received, 0 not), from tshark's decoding.
fb() {
  tshark -r "$T_TMP/tx.pcapng" -Y "udp.srcport == $1" -w "$T_TMP/fb-$1.pcapng" 2>/dev/null
  tshark -r "$T_TMP/fb-$1.pcapng" -d "udp.port==$1,rtcp" -V 2>/dev/null | awk '
    /Base Sequence Number:/ { base = $4 }
    /Packet Status Count:/ { for (i = 0; i < $4; i++) status[base + i] = 0; n += $4 }
    /Delta: \[seq: / { match($0, /\[seq: [0-9]+\] -?[0-9.]+ ms/); split(substr($0, RSTART, RLENGTH), f, /[]: ]+/)
                      got[f[2]] = f[3] }
    END { for (s in status) print s, (s in got) ? 1 : 0, (s in got) ? got[s] : "-" }' | sort -n
}

# rtpsession's "Parsed TWCC" lists each packet it matched, lost or not.
gst_lost() {
  python3 - "$1" <<'PY'
import re, sys
lost = set()
for line in open(sys.argv[1], errors="replace"):
    if "Parsed TWCC: " not in line:
        continue
    for seq, flag in re.findall(r"seqnum\\=\\\(uint\\\)(\d+).*?lost\\=\\\(boolean\\\)(true|false)", line):
        if flag == "true":
            lost.add(int(seq))
print(" ".join(str(s) for s in sorted(lost)))
PY
}

sink_start 5004 --idle 2 --duration 40
tx_capture_start "udp port 6000 or udp port 6002"
gst 5004 6000
sleep 0.5   # the last feedback
sink_wait 5004

sent=$(tshark -r "$T_TMP/tx.pcapng" -o rtp.heuristic_rtp:TRUE -Y "udp.dstport == 5004 && rtp.ssrc == $SSRC" 2>/dev/null | wc -l)
[ "$sent" -ge 140 ] || fail "only $sent RTP packets sent"
t_ok
fb 5004 >"$T_TMP/fb1.txt"
expect_eq "$(wc -l <"$T_TMP/fb1.txt")" "$sent" "transport-wide numbers the feedback covers"
expect_eq "$(awk 'NR - 1 != $1' "$T_TMP/fb1.txt" | head -1)" "" "numbers covered: 0 .. sent - 1, each once"
expect_eq "$(awk '$2 != 1' "$T_TMP/fb1.txt" | head -1)" "" "every packet received"
expect_eq "$(awk '$3 < 0 || $3 > 100' "$T_TMP/fb1.txt" | head -1)" "" "deltas between 0 and 100 ms"
G=$T_TMP/gst-5004.log
grep -q "Malformed TWCC" "$G" && fail "GStreamer found a malformed feedback"
t_ok
n_parsed=$(grep -c "Parsed TWCC feedback" "$G"); [ "$n_parsed" -ge 10 ] || { fail "GStreamer parsed too few feedbacks ($n_parsed)"; }
t_ok
# Matched to what it sent: all but what the feedbacks after its EOS held
# (it stops right after its last packet; feedback goes every 100 ms).
matched=$(grep -o "matching pkt: #[0-9]*" "$G" | sed 's/.*#//' | sort -n | uniq)
expect_eq "$(awk 'NR - 1 != $1' <<<"$matched" | head -1)" "" "numbers GStreamer matched: 0 .. M - 1, each once"
[ "$(wc -l <<<"$matched")" -ge $((sent - 10)) ] || fail "GStreamer matched only $(wc -l <<<"$matched") of $sent packets"
t_ok
expect_eq "$(gst_lost "$G")" "" "packets GStreamer read as lost"
expect_eq "$(grep "Current TWCC stats" "$G" | grep -vc "packet-loss-pct=(double)0[,;]")" 0 \
  "GStreamer's TWCC stats: loss"

# With drops after the sender.
clang -target bpf -O2 -g -mcpu=v3 -Wall -Werror -I/usr/include/x86_64-linux-gnu \
  -DDST_PORT=5006 -DMEDIA_PT=96 -DMEDIA_SSRC=$SSRC -DDROP_OFFSETS=$DROP \
  -c "$T_ROOT/tests/integration/drop_seq.bpf.c" -o "$T_TMP/drop_seq.o" || fail "cannot build drop_seq.bpf.c"
tc_private() {
  unshare --mount -- sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh \
    nsenter --net="/run/netns/$TB_TX_NS" -- tc "$@"
}
tc_private qdisc add dev "$TB_TX_IF" clsact || fail "cannot add clsact to $TB_TX_IF"
tc_private filter add dev "$TB_TX_IF" egress bpf direct-action obj "$T_TMP/drop_seq.o" sec tc ||
  fail "cannot attach drop_seq"
prog=$(tb_tx bpftool net show dev "$TB_TX_IF" -j | jq '.[0].tc[] | select(.kind == "clsact/egress") | .id')
drop_map=$(bpftool prog show id "$prog" -j | jq '.map_ids[0]')
sink_start 5006 --idle 2 --duration 40
gst 5006 6002
sleep 0.5
sink_wait 5006
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM

# The dropped RTP sequence numbers, as transport-wide numbers: one per
# packet, consecutive, from 0 (GStreamer's first).
bpftool map dump id "$drop_map" -j >"$T_TMP/drop_log.json" || fail "cannot read drop_log"
want=$(jq -r '[.[] | .formatted] | (map(select(.key == 0)) | .[0].value % 65536) as $f |
  map(select(.key > 0)) | sort_by(.key) | .[] | (.value % 65536 - $f + 65536) % 65536' \
  "$T_TMP/drop_log.json" | xargs)
expect_eq "$want" "20 21 22 57 90" "transport-wide numbers dropped"
fb 5006 >"$T_TMP/fb2.txt"
expect_eq "$(awk '$2 == 0 { print $1 }' "$T_TMP/fb2.txt" | xargs)" "$want" "numbers the feedback says were not received"
expect_eq "$(awk 'NR - 1 != $1' "$T_TMP/fb2.txt" | head -1)" "" "numbers covered: from 0, each once"
G=$T_TMP/gst-5006.log
grep -q "Malformed TWCC" "$G" && fail "GStreamer found a malformed feedback"
t_ok
expect_eq "$(gst_lost "$G")" "$want" "packets GStreamer read as lost"
# Its windowed statistics are computed from the feedback too.
# (One grep: with pipefail, a first grep cut short by grep -q fails the check.)
grep -q "Current TWCC stats.*packets-recv=(uint)[1-9]" "$G" ||
  fail "GStreamer's TWCC stats never counted a packet received"
t_ok

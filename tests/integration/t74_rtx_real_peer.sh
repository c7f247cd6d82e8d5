#!/usr/bin/env bash
# A real peer honours our NACKs. GStreamer sends VP8 from the tx namespace
# (videotestsrc ! vp8enc ! rtpvp8pay ! rtprtxsend ! rtpbin, AVPF), receiving
# RTCP on the port its RTP leaves from, which is where xicept sends its
# NACKs. A test-only tc classifier on the sender's veth egress drops chosen
# original packets once, after rtprtxsend has sent them (netem is not
# available). Checked, from captures and from the receiving socket:
#   1. the sequence numbers xicept NACKs are exactly the dropped ones;
#   2. rtprtxsend retransmits (RFC 4588: PT 97, its own SSRC, the original
#      sequence number first in the payload) exactly the NACKed ones;
#   3. the application's socket gets every original sequence number: all
#      but the dropped ones as PT 96, the dropped ones as RTX.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
PORT=5004          # the receiver: xicept's connection and the app socket
SRC_PORT=6000      # the sender's RTP source port, where it reads RTCP too
SSRC=4660          # 0x1234, media
RTX_SSRC=4661      # 0x1235, its retransmissions
FRAMES=60          # 2 s of 30 fps, about 440 packets
# Offsets from the first media sequence number: a run of three (one NACK
# entry with BLP bits), neighbours and loners. All well before the end, so
# the NACK and the retransmission happen while the pipeline still runs.
DROP=20,21,22,57,90,106,107,160,233,300

for tool in gst-launch-1.0 tshark dumpcap clang tc bpftool unshare; do
  command -v "$tool" >/dev/null || fail "$tool is missing"
done
gst_ready rtpbin videotestsrc vp8enc rtpvp8pay rtprtxsend udpsink udpsrc

# The loss: built here, into the test's directory, never into build/.
clang -target bpf -O2 -g -mcpu=v3 -Wall -Werror -I/usr/include/x86_64-linux-gnu \
  -DDST_PORT=$PORT -DMEDIA_PT=96 -DMEDIA_SSRC=$SSRC -DDROP_OFFSETS=$DROP \
  -c "$T_ROOT/tests/integration/drop_seq.bpf.c" -o "$T_TMP/drop_seq.o" ||
  fail "cannot build drop_seq.bpf.c"
# tc's loader makes directories in the bpffs it finds at /sys/fs/bpf: give
# it a private one, in a mount namespace that ends with the command. The
# filter keeps the program; the veth, gone with the testbed, keeps the filter.
tc_private() {
  unshare --mount -- sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh \
    nsenter --net="/run/netns/$TB_TX_NS" -- tc "$@"
}
tc_private qdisc add dev "$TB_TX_IF" clsact || fail "cannot add clsact to $TB_TX_IF"
tc_private filter add dev "$TB_TX_IF" egress bpf direct-action \
  obj "$T_TMP/drop_seq.o" sec tc || fail "cannot attach drop_seq to $TB_TX_IF egress"
prog=$(tb_tx bpftool net show dev "$TB_TX_IF" -j | jq '.[0].tc[] | select(.kind == "clsact/egress") | .id')
drop_map=$(bpftool prog show id "$prog" -j | jq '.map_ids[0]')
[[ $drop_map =~ ^[0-9]+$ ]] || fail "no drop_log map for program '$prog'"

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:$PORT" \
  --chain 'nack-generator interval=20ms streams=all max-nacks=1 sender-ssrc=0xabc ! header-stats'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
conn=$T_OUT
run_start

# Both directions on the sender's veth: media and RTX out (after the drop),
# NACKs in.
tx_capture_start "udp port $PORT"
udp_recv "$PORT" "$T_TMP/got"

# rtpsession turns each NACKed sequence number into an upstream
# retransmission request, which rtprtxsend answers. The RTCP socket is bound
# to the address, the RTP one to the wildcard, both to SRC_PORT: the more
# specific binding gets the NACKs. The sender's own RTCP goes to PORT+1.
# In the background, so that a signal to the test ends it at once.
tb_tx timeout 20 gst-launch-1.0 -q rtpbin name=rb rtp-profile=avpf \
  videotestsrc is-live=true num-buffers=$FRAMES pattern=smpte horizontal-speed=4 \
  ! video/x-raw,width=320,height=240,framerate=30/1 \
  ! vp8enc deadline=1 target-bitrate=800000 \
  ! rtpvp8pay pt=96 ssrc=$SSRC mtu=500 \
  ! rtprtxsend payload-type-map="application/x-rtp-pt-map,96=(uint)97" \
      ssrc-map="application/x-rtp-ssrc-map,$SSRC=(uint)$RTX_SSRC" \
  ! rb.send_rtp_sink_0 \
  rb.send_rtp_src_0 ! udpsink host="$TB_RX_IP" port=$PORT bind-port=$SRC_PORT \
  rb.send_rtcp_src_0 ! udpsink host="$TB_RX_IP" port=$((PORT + 1)) sync=false async=false \
  udpsrc address="$TB_TX_IP" port=$SRC_PORT caps=application/x-rtcp ! rb.recv_rtcp_sink_0 \
  >"$T_TMP/gst.out" 2>&1 &
GST_PID=$!
T_PIDS+=("$GST_PID")
rc=0
wait "$GST_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "gst-launch failed (exit $rc; 124 is the 20 s timeout): $(tail -5 "$T_TMP/gst.out")"
wait "$RECV_PID"
sleep 0.3
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM

bpftool map dump id "$drop_map" -j >"$T_TMP/drop_log.json" || fail "cannot read drop_log"

# Sequence numbers are compared in stream order, as offsets from the first
# one, so that a wrap at 65535 changes nothing.
[ -s "$T_TMP/got" ] || fail "the app socket got nothing"
python3 - "$T_TMP" "$DROP" "$PORT" >"$T_TMP/facts" <<'PY' || fail "cannot analyse the captures"
import json, subprocess, sys
tmp, offsets, port = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3]
SET = 0x10000

log = {e["formatted"]["key"]: e["formatted"]["value"] for e in json.load(open(tmp + "/drop_log.json"))}
first = log[0] & 0xffff if log[0] & SET else None
rel = lambda s: (s - first) & 0xffff
srt = lambda seqs: " ".join(str(s) for s in sorted(seqs, key=rel))
facts = {}
def fact(k, v):
    facts[k] = v

if first is None:
    sys.exit(print("first_seen=no"))
fact("first_seen", "yes")
fact("first", first)
fact("dropped", srt(v & 0xffff for k, v in log.items() if k > 0 and v & SET))
fact("expected_dropped", srt((first + o) & 0xffff for o in offsets))

def tshark(decode, flt, *fields):
    out = subprocess.run(["tshark", "-r", tmp + "/tx.pcapng", "-o", "ip.check_checksum:TRUE",
                          "-o", "udp.check_checksum:TRUE", "-d", decode, "-Y", flt, "-T", "fields",
                          "-E", "separator=/t"] + [a for f in fields for a in ("-e", f)],
                         capture_output=True, text=True, check=True).stdout
    return [l.split("\t") for l in out.splitlines()]

# 1. NACKs, in the order sent: every sequence number each one asks for
#    (its PID and those its BLP bits name, as tshark lists them).
nacks = tshark(f"udp.port=={port},rtcp", f"udp.srcport=={port} && rtcp.rtpfb.fmt==1",
               "rtcp.rtpfb.nack_pid", "rtcp.senderssrc", "rtcp.mediassrc",
               "ip.src", "udp.srcport", "ip.dst", "udp.dstport",
               "ip.checksum.status", "udp.checksum.status")
fact("nack_packets", len(nacks))
fact("nacked", " ".join(s for n in nacks for s in n[0].split(",")))
fact("nack_heads", " ".join(sorted(set(" ".join(n[1:]) for n in nacks))))

# 2. Retransmissions on the wire: RFC 4588, the original sequence number
#    is the first two bytes of the payload.
media = tshark(f"udp.port=={port},rtp", f"udp.dstport=={port} && rtp.p_type==96", "rtp.seq")
rtx = tshark(f"udp.port=={port},rtp", f"udp.dstport=={port} && rtp.p_type==97", "rtp.ssrc",
             "rtp.payload")
fact("wire_media", len(media))
fact("wire_rtx", len(rtx))
fact("rtx_ssrcs", " ".join(sorted(set(r[0] for r in rtx))))
fact("rtx_osn", srt(int(r[1][:4], 16) for r in rtx))

# 3. The application's socket, one datagram a line.
got = [bytes.fromhex(l) for l in open(tmp + "/got").read().split()]
orig = [int.from_bytes(d[2:4], "big") for d in got if d[1] & 0x7f == 96]
osn = [int.from_bytes(d[12:14], "big") for d in got if d[1] & 0x7f == 97]
last = max(orig, key=rel)
fact("app_first", orig[0])
fact("app_datagrams", len(got))
fact("app_media", len(orig))
fact("app_media_distinct", len(set(orig)))
fact("app_media_missing", srt(s for s in ((first + i) & 0xffff for i in range(rel(last) + 1))
                              if s not in set(orig)))
fact("app_rtx_osn", srt(osn))
fact("app_span", rel(last) + 1)
for k, v in facts.items():
    print(f"{k}={v}")
PY
f() { sed -n "s/^$1=//p" "$T_TMP/facts"; }
nd=$(tr ',' '\n' <<<"$DROP" | wc -l)

# The loss: every chosen packet dropped, once.
expect_eq "$(f first_seen)" yes "drop_seq saw the stream"
dropped=$(f dropped)
expect_eq "$dropped" "$(f expected_dropped)" "sequence numbers dropped at the sender's egress"

# 1. xicept asked for exactly those, each once (max-nacks=1), in order, from
#    its local endpoint to the port the RTP came from, checksums good (1).
expect_eq "$(f nacked)" "$dropped" "NACKed sequence numbers"
expect_eq "$(f nack_heads)" \
  "0x00000abc 0x00001234 $TB_RX_IP $PORT $TB_TX_IP $SRC_PORT 1 1" \
  "NACK sender/media SSRC, addresses, IP/UDP checksum status"

# 2. rtprtxsend retransmitted exactly what was NACKed, each once.
expect_eq "$(f rtx_osn)" "$dropped" "original sequence numbers of the retransmissions"
expect_eq "$(f wire_rtx)" "$nd" "retransmissions sent"
expect_eq "$(f rtx_ssrcs)" "0x00001235" "retransmission SSRC"

# 3. The app socket: every datagram on the wire, byte for byte; every
#    original sequence number, the dropped ones only as retransmissions.
tshark -r "$T_TMP/tx.pcapng" -Y "udp.dstport==$PORT" -T fields -e udp.payload 2>/dev/null \
  >"$T_TMP/wire" || fail "tshark failed"
cmp -s "$T_TMP/wire" "$T_TMP/got" || fail "the app socket's datagrams differ from those on the wire"
t_ok
expect_eq "$(f app_datagrams)" $(($(f wire_media) + nd)) "datagrams at the app socket"
span=$(f app_span)
[ "$span" -gt "${DROP##*,}" ] || fail "stream of $span packets ends before the last drop"
t_ok
expect_eq "$(f app_first)" "$(f first)" "first sequence number at the app socket"
expect_eq "$(f app_media)" $((span - nd)) "original packets at the app socket (PT 96)"
expect_eq "$(f app_media_distinct)" $((span - nd)) "distinct original packets at the app socket"
expect_eq "$(f app_media_missing)" "$dropped" "sequence numbers the app got only as RTX"
expect_eq "$(f app_rtx_osn)" "$dropped" "sequence numbers the app got as RTX (PT 97)"

# xicept's own view: header-stats, after nack-generator, saw the loss (it
# does not know RTX), and the daemon emitted every NACK the capture holds.
expect_eq "$(stats_get "$conn" "$SSRC" rtp_packets)" $((span - nd)) "header-stats packets of the media SSRC"
expect_eq "$(stats_get "$conn" "$SSRC" lost)" "$nd" "header-stats lost of the media SSRC"
expect_eq "$(stats_get "$conn" "$RTX_SSRC" rtp_packets)" "$nd" "header-stats packets of the RTX SSRC"
total=$(f app_datagrams)
expect_match "$(tail -1 "$RUN_LOG")" \
  "stopped: $total frames, 0 delivered \(0 changed\), $total observed \(tap\), 0 dropped, 0 chain errors, $(f nack_packets) RTCP emitted \(0 failed\)" \
  "daemon summary"

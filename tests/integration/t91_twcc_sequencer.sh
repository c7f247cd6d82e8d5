#!/usr/bin/env bash
# twcc-sequencer in TC egress. An application in the rx namespace sends RTP
# from the connection's local endpoint; packets carrying the RFC 8285
# one-byte element 3 with two bytes (here at an odd offset, which the
# checksum update must allow for) get the connection's transport-wide
# numbers 0, 1, 2... in the order they leave; packets without it (no
# extension, only another id, a one-byte element 3) leave untouched. The
# first ones are sent through a raw socket with a full UDP checksum (no
# offload): the peer's socket, which drops a bad checksum, gets every one,
# and tshark finds each checksum good. The last ones go through a UDP
# socket (veth leaves their checksum to be completed) and arrive too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:7000" \
  --local-stream 0x5678:96:90000 --chain 'twcc-sequencer ext-id=3 ! header-stats'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
expect_error 1 "ext-id" xi conn add "$IF" --local "$TB_RX_IP:5006" --chain 'twcc-sequencer ext-id=15'

tb_tx python3 - "$TB_TX_IP" 7000 "$T_TMP/peer.ready" >"$T_TMP/peer.txt" 2>"$T_TMP/peer.err" <<'PY' &
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], int(sys.argv[2])))
open(sys.argv[3], "w").close()
s.settimeout(5)
for _ in range(13):
    d = s.recv(2048)
    seq = struct.unpack("!H", d[2:4])[0]
    ext = "-"
    if d[0] & 0x10:
        n = struct.unpack("!H", d[14:16])[0] * 4
        e = d[16:16 + n]
        ext = e.hex()
    print(seq, ext)
PY
PEER=$!
T_PIDS+=("$PEER")
for _ in $(seq 100); do [ -e "$T_TMP/peer.ready" ] && break; sleep 0.05; done
# UDP datagrams the tx namespace's kernel dropped for a bad checksum.
csum_errors() {
  tb_tx awk '/^Udp:/ { if (!h) { for (i = 2; i <= NF; i++) col[$i] = i; h = 1 }
    else print $col["InCsumErrors"] }' /proc/net/snmp
}
CSUM0=$(csum_errors)
tx_capture_start "udp port 7000"
# dumpcap says it captures a moment before its filter sees the first frames;
# the packets below are few and come at once.
sleep 0.5

tb_rx python3 - "$TB_RX_IP" 5004 "$TB_TX_IP" 7000 <<'PY' || fail "the sender failed"
import socket, struct, sys
src, sport, dst, dport = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
def rtp(seq, elems):
    h = struct.pack("!BBHII", 0x80, 96, seq, 1000 * seq, 0x5678)
    if elems is None:
        return h + b"\xab" * 100
    ext = b"".join(elems)
    ext += b"\x00" * (-len(ext) % 4)
    return bytes([0x90]) + h[1:] + struct.pack("!HH", 0xBEDE, len(ext) // 4) + ext + b"\xab" * 100
def csum(b):
    if len(b) % 2:
        b += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def raw(payload):
    ulen = 8 + len(payload)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 17, ulen)
    udp = struct.pack("!HHHH", sport, dport, ulen, 0) + payload
    c = csum(pseudo + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + ulen, 0, 0x4000, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return ip + udp
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
one = b"\x10\x07"                     # id 1, one byte
tw = b"\x31\xff\xff"                  # id 3, two bytes
for i in range(5):
    r.sendto(raw(rtp(i, [one, tw])), (dst, 0))
for i in range(5, 7):
    r.sendto(raw(rtp(i, None)), (dst, 0))
for i in range(7, 9):
    r.sendto(raw(rtp(i, [b"\x41\xee\xee"])), (dst, 0))   # id 4 only
r.sendto(raw(rtp(9, [b"\x30\x55"])), (dst, 0))           # id 3, one byte
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind((src, sport))
for i in range(10, 13):
    u.sendto(rtp(i, [tw, one]), (dst, dport))
PY
wait "$PEER" || fail "the peer did not get every packet: $(cat "$T_TMP/peer.err")"
sleep 0.2
kill -TERM "$CAP"
wait "$CAP"

expect_eq "$(xargs <"$T_TMP/peer.txt")" \
  "0 1007310000000000 1 1007310001000000 2 1007310002000000 3 1007310003000000 4 1007310004000000 5 - 6 - 7 41eeee00 8 41eeee00 9 30550000 10 3100051007000000 11 3100061007000000 12 3100071007000000" \
  "sequence numbers and extension bytes at the peer"
# The peer's kernel checked every checksum: all ten raw packets arrived
# (above) and none failed. tshark's own check, of what the capture holds:
# dumpcap sometimes misses the first packets of a run, never a bad one.
expect_eq "$(($(csum_errors) - CSUM0))" 0 "UDP checksum errors at the peer's kernel"
status=$(tshark -r "$T_TMP/tx.pcapng" -o udp.check_checksum:TRUE -Y "udp.srcport == 5004 && rtp.seq < 10" \
  -d udp.port==7000,rtp -T fields -e udp.checksum.status 2>/dev/null | sort -u | xargs)
[ -z "$status" ] || expect_eq "$status" 1 "UDP checksums of the raw packets, as tshark checks them (1: good)"
expect_eq "$(stats_get "$id" 22136 sent_packets)" 13 "packets header-stats counted leaving"

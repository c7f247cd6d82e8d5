#!/usr/bin/env bash
# xicept run delivers through AF_XDP TX into a veth of its own (issue 19):
#  - IPv4 and IPv6, two SSRCs sent at once in bursts: every datagram reaches
#    the application's socket once, byte for byte, in order per SSRC, all of
#    them received on the daemon's veth peer xid<ifindex>p, with checksums the
#    kernel accepted (nstat's InCsumErrors unchanged in the namespace), and
#    net.ipv4.conf.all.rp_filter strict: the peer's own setting is loose;
#  - the pair is gone after SIGTERM and SIGINT, and the settings outside it
#    are as they were; after SIGKILL the pair stays, and the next start
#    removes it and makes a new one;
#  - raw sockets: --deliver raw delivers exactly with no veth made, and auto
#    falls back to them, saying why, when the veth cannot be made (a link
#    that is not xicept's holds its name, and is left alone); --deliver veth
#    then refuses to start.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
IFX=$(tb_rx ip -j link show "$IF" | jq '.[0].ifindex')
VETH=xid$IFX
PEER=xid${IFX}p
N=600   # datagrams per SSRC and family

# New links get conf/default's rp_filter: strict, which the peer must turn
# off for itself, or every datagram from the remote would be dropped.
tb_rx sysctl -qw net.ipv4.conf.all.rp_filter=0
tb_rx sysctl -qw net.ipv4.conf.default.rp_filter=1
if_rp=$(tb_rx sysctl -n "net.ipv4.conf.$IF.rp_filter")

t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
# nack-generator runs in the daemon, and ssrc-filter after it may drop: the
# connection goes through AF_XDP (observers only would take the tap).
for ep in "$TB_RX_IP:5004" "[$TB_RX_IP6]:5006"; do
  t_run xi conn add "$IF" --local "$ep" \
    --chain "nack-generator ! ssrc-filter mode=allow ssrc=0x1111,0x2222"
  expect_eq "$T_RC" 0 "conn add $ep ($T_ERR)"
done
expect_eq "$(xi conn list "$IF" --json | jq -r '[.connections[].path] | unique | join(",")')" afxdp \
  "the connections' path"

# send FAMILY IP PORT FILE COUNT SEED: COUNT RTP packets of SSRC 0x1111 and
# of 0x2222, alternating, random payloads and lengths, in bursts of 50 with
# 2 ms between (batches for the engine); a line of hex each into FILE.
send() {
  tb_tx python3 - "$@" <<'PY' || fail "sender failed"
import random, socket, struct, sys, time
fam = socket.AF_INET6 if sys.argv[1] == "6" else socket.AF_INET
ip, port, out, count, seed = sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]), int(sys.argv[6])
rnd = random.Random(seed)
s = socket.socket(fam, socket.SOCK_DGRAM)
with open(out, "w") as f:
    for i in range(2 * count):
        ssrc = 0x1111 if i % 2 == 0 else 0x2222
        n = i // 2
        hdr = struct.pack("!BBHII", 0x80, 96, (500 + n) & 0xffff, 3000 * n, ssrc)
        body = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 1200)))
        s.sendto(hdr + body, (ip, port))
        f.write((hdr + body).hex() + "\n")
        if i % 50 == 49:
            time.sleep(0.002)
PY
}

# per_ssrc FILE SSRC: the datagrams of one SSRC, in the order they came.
per_ssrc() { grep "^.\{16\}0000$2" "$1"; }

csum_errors() {
  tb_rx nstat -az IpExtInCsumErrors UdpInCsumErrors Udp6InCsumErrors |
    awk '$1 ~ /CsumErrors$/ { n += $2 } END { print n + 0 }'
}
peer_rx() { tb_rx ip -j -s link show "$PEER" | jq '.[0].stats64.rx.packets'; }
has_link() { tb_rx ip link show "$1" >/dev/null 2>&1; }

# exact FAMILY IP PORT TAG: a run of send into recv, every datagram once
# and in order per SSRC.
exact() {
  local got=$T_TMP/got-$4 sent=$T_TMP/sent-$4
  udp_recv_at "$1" "$2" "$3" "$got"
  send "$1" "$2" "$3" "$sent" "$N" "$3"
  wait "$RECV_PID"
  expect_eq "$(wc -l <"$got")" $((2 * N)) "$4: datagrams received"
  for ssrc in 00001111 00002222; do
    cmp -s <(per_ssrc "$sent" "$ssrc") <(per_ssrc "$got" "$ssrc") ||
      fail "$4: the datagrams of SSRC 0x$ssrc differ from those sent, or came out of order"
    t_ok
  done
}

# ---- veth delivery, IPv4 and IPv6 ----

csum0=$(csum_errors)
RUN_ARGS="--listen 9193" run_start
expect_match "$(cat "$RUN_LOG")" "delivering in batches of up to 64 through AF_XDP TX into veth $VETH .*received on $PEER" \
  "the start line"
has_link "$VETH" && has_link "$PEER" || fail "the daemon made no $VETH/$PEER"
t_ok
expect_eq "$(tb_rx sysctl -n "net.ipv4.conf.$PEER.rp_filter")" 0 "the peer's rp_filter (off)"
expect_eq "$(tb_rx ip -j -d link show "$VETH" | jq '.[0].num_tx_queues')" 1 "$VETH's TX queues (one a thread)"
expect_eq "$(tb_rx ip -j addr show "$PEER" | jq '.[0].addr_info | length')" 0 "addresses on $PEER"
exact 4 "$TB_RX_IP" 5004 ipv4
exact 6 "$TB_RX_IP6" 5006 ipv6
expect_eq "$(peer_rx)" $((4 * N)) "datagrams received on $PEER"
expect_eq "$(csum_errors)" "$csum0" "checksum errors in the receiver's namespace"
# A second daemon on the interface is refused (after its second of
# retries), and leaves the first one's pair alone.
t_run xi run "$IF"
expect_eq "$T_RC" 1 "a second daemon's exit status"
expect_match "$(tail -1 <<<"$T_ERR")" "^xicept: $IF: a receive queue already has an AF_XDP socket" \
  "a second daemon's error"
has_link "$VETH" && has_link "$PEER" || fail "a refused second daemon took $VETH/$PEER"
t_ok
m=$(tb_rx curl -sf http://127.0.0.1:9193/metrics) || fail "no /metrics"
expect_eq "$(grep -E '^xicept_delivered_packets_total\{ifname="'"$IF"'",way="(veth|raw)"\}' <<<"$m" | awk '{ printf "%s ", $2 }')" \
  "$((4 * N)) 0 " "/metrics: delivered through the veth, through raw sockets"
expect_eq "$(grep -c '^xicept_delivery_failures_total{.*} 0$' <<<"$m")" 5 "/metrics: delivery failures, every cause 0"
run_stop TERM
RUN_ARGS=
expect_match "$(tail -1 "$RUN_LOG")" "stopped: $((4 * N)) frames, $((4 * N)) delivered \(0 changed\), 0 observed \(tap\), 0 dropped, 0 chain errors, .*, 0 delivery errors, 0 lost" \
  "daemon summary"
xi stats "$IF" --json >"$T_TMP/stats.json" || fail "xicept stats failed"
expect_eq "$(jq '[.losses[]] | add' "$T_TMP/stats.json")" 0 "losses in stats --json"
has_link "$VETH" && fail "$VETH is still there after SIGTERM"
has_link "$PEER" && fail "$PEER is still there after SIGTERM"
t_ok
expect_eq "$(tb_rx sysctl -n net.ipv4.conf.all.rp_filter)" 0 "conf/all/rp_filter after the stop"
expect_eq "$(tb_rx sysctl -n net.ipv4.conf.default.rp_filter)" 1 "conf/default/rp_filter after the stop"
expect_eq "$(tb_rx sysctl -n "net.ipv4.conf.$IF.rp_filter")" "$if_rp" "$IF's rp_filter after the stop"

run_start
has_link "$VETH" || fail "no $VETH after the second start"
run_stop INT
has_link "$VETH" && fail "$VETH is still there after SIGINT"
t_ok

# ---- SIGKILL: the pair stays; the next start removes it ----
# From here conf/all/rp_filter is strict: the peer's can only be loose, and
# a device needs an IPv4 address to pass the check at all.
tb_rx sysctl -qw net.ipv4.conf.all.rp_filter=1

run_start
old=$(tb_rx ip -j link show "$VETH" | jq '.[0].ifindex')
kill -KILL "$RUN_PID"
wait "$RUN_PID" 2>/dev/null
has_link "$VETH" || fail "$VETH went with the killed daemon: nothing left to clean"
t_ok
# The kernel lets go of a killed socket's queue in a work item of its own
# (the UMEM's deferred release): until it has run, a new socket on the queue
# is refused (-EBUSY), and the daemon tries again for up to a second. So one
# start, at once, must do.
run_start
new=$(tb_rx ip -j link show "$VETH" | jq '.[0].ifindex')
[[ -n $new && $new != "$old" ]] || fail "the stale $VETH ($old) was not replaced (now $new)"
t_ok
expect_eq "$(tb_rx ip -o link show | grep -c "xid$IFX")" 2 "links of the pair after the restart"
expect_eq "$(tb_rx sysctl -n "net.ipv4.conf.$PEER.rp_filter")" 2 "the peer's rp_filter (loose)"
expect_eq "$(tb_rx ip -j addr show "$PEER" | jq -c '[.[0].addr_info[] | [.local, .prefixlen, .scope]]')" \
  '[["192.0.0.8",32,"host"]]' "the peer's addresses under a strict conf/all"
csum0=$(csum_errors)
exact 4 "$TB_RX_IP" 5004 strict4
exact 6 "$TB_RX_IP6" 5006 strict6
expect_eq "$(csum_errors)" "$csum0" "checksum errors in the receiver's namespace (strict)"
run_stop TERM
has_link "$VETH" && fail "$VETH is still there after the restarted daemon stopped"
t_ok
expect_eq "$(tb_rx ip -j addr show | jq '[.[].addr_info[] | select(.local == "192.0.0.8")] | length')" 0 \
  "192.0.0.8 left in the namespace"
expect_eq "$(tb_rx sysctl -n net.ipv4.conf.all.rp_filter)" 1 "conf/all/rp_filter after the stop (strict)"

# ---- raw sockets ----

RUN_ARGS="--deliver raw" run_start
expect_match "$(tail -2 "$RUN_LOG")" "delivering in batches of up to 64 through raw sockets" "start line, --deliver raw"
has_link "$VETH" && fail "--deliver raw made $VETH"
t_ok
exact 4 "$TB_RX_IP" 5004 raw4
exact 6 "$TB_RX_IP6" 5006 raw6
run_stop TERM

# A link of the pair's name that is not xicept's: auto says why and falls
# back, and leaves that link alone; --deliver veth refuses to start.
tb_rx ip link add "$VETH" type veth peer name "xio$TB_ID" || fail "cannot make a link named $VETH"
run_start
expect_match "$(tail -3 "$RUN_LOG")" "cannot deliver through a veth $VETH/$PEER: File exists; delivering through raw sockets" \
  "the fallback's line"
expect_match "$(tail -2 "$RUN_LOG")" "delivering in batches of up to 64 through raw sockets" "start line, fallen back"
exact 4 "$TB_RX_IP" 5004 fallback
run_stop TERM
has_link "xio$TB_ID" || fail "the daemon removed a link that was not its own"
t_ok
t_run nsenter --net="/run/netns/$TB_RX_NS" -- "$XICEPT" run "$IF" --deliver veth
[ "$T_RC" -ne 0 ] || fail "--deliver veth started without its veth"
t_ok
expect_match "$T_ERR" "cannot deliver through a veth $VETH/$PEER: File exists" "--deliver veth's log"
expect_match "$T_ERR" "xicept: cannot start on $IF: File exists" "--deliver veth's error"
has_link "xio$TB_ID" || fail "--deliver veth removed a link that was not its own"
t_ok
expect_error 2 "--deliver wants auto, veth or raw, not 'tun'" xi run "$IF" --deliver tun

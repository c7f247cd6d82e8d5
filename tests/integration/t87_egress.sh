#!/usr/bin/env bash
# Local streams on TC egress. attach puts xi_tc_egress on the clsact egress
# hook (bpftool net lists it); an application in the rx namespace sends RTP
# from the connection's local endpoint: header-stats counts exactly what
# left (packets, payload octets, last RTP timestamp), ssrc-filter stops a
# denied SSRC from leaving (the peer's socket gets none of it, the drops are
# counted), packets of other flows leave untouched. detach removes the
# filter and the clsact qdisc attach made, and leaves one that was there.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
expect_match "$(tb_rx bpftool net show dev "$IF")" "clsact/egress xi_tc_egress" "bpftool net lists the egress program"
expect_match "$(tb_rx tc qdisc show dev "$IF")" "clsact" "attach made a clsact qdisc"

t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:7000" \
  --stream 0x1234:96:90000 --local-stream 0x5678:96:90000:rtx=0x5679/97 \
  --local-stream 0x9999:111:48000 \
  --chain 'header-stats ! ssrc-filter mode=deny ssrc=0x9999'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
expect_eq "$(xi conn list "$IF" --json | jq -c '.connections[0].local_streams')" \
  '["22136:96:90000:rtx=22137/97","39321:111:48000"]' "the local streams as listed"
expect_error 1 "local stream" xi conn add "$IF" --local "$TB_RX_IP:5006" --chain header-stats \
  --local-stream 0x1:96:90000 --local-stream 0x1:97:90000
expect_error 1 "rtx=RTXSSRC/RTXPT" xi conn add "$IF" --local "$TB_RX_IP:5006" --chain header-stats \
  --local-stream 0x1:96:90000:rtx=5

# The peer's socket, in the tx namespace.
rm -f "$T_TMP/ready"
nsenter --net="/run/netns/$TB_TX_NS" -- "$SINK" --bind "$TB_TX_IP:7000" --ready "$T_TMP/ready" \
  --idle 1 --duration 30 >"$T_TMP/peer.json" 2>"$T_TMP/peer.err" &
PEER=$!
T_PIDS+=("$PEER")
for _ in $(seq 100); do [ -e "$T_TMP/ready" ] && break; sleep 0.05; done
[ -e "$T_TMP/ready" ] || fail "the peer's sink did not start"

tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x5678 --seq 100 --count 500 \
  --size 160 --ts-step 3000 --rate 5000 >"$T_TMP/send1.json" || fail "xi-rtp-send"
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5004 --ssrc 0x9999 --count 300 --size 80 \
  --rate 5000 >"$T_TMP/send2.json" || fail "xi-rtp-send"
# Another source port of the same host: not the connection's, untouched.
tb_rx "$SEND" --to "$TB_TX_IP:7000" --from-port 5010 --ssrc 0x9999 --count 50 --size 80 \
  --rate 5000 >"$T_TMP/send3.json" || fail "xi-rtp-send"
wait "$PEER" || fail "the peer's sink failed: $(cat "$T_TMP/peer.err")"

peer() { jq --argjson s "$1" "[.ssrcs[] | select(.ssrc == \$s) | .$2] | first // 0" "$T_TMP/peer.json"; }
expect_eq "$(peer 22136 packets)" 500 "packets of 0x5678 at the peer"
expect_eq "$(peer 39321 packets)" 50 "packets of 0x9999 at the peer: only those of the other port"

xi stats "$IF" --json >"$T_TMP/stats.json" || fail "xicept stats failed"
s() { jq --argjson c "$id" --argjson s "$1" \
  "[.connections[] | select(.id == \$c) | .ssrcs[] | select(.ssrc == \$s) | .$2] | first // \"none\"" \
  "$T_TMP/stats.json"; }
expect_eq "$(s 22136 direction)" '"out"' "direction of the local stream"
expect_eq "$(s 22136 sent_packets)" 500 "packets header-stats counted leaving"
expect_eq "$(s 22136 sent_octets)" $((500 * 160)) "payload octets counted leaving"
expect_eq "$(s 22136 sent_header_bytes)" $((500 * 12)) "header bytes counted leaving"
expect_eq "$(s 22136 last_rtp_ts)" $((0x10000 + 499 * 3000)) "last RTP timestamp sent"
[ "$(s 22136 last_send_ns)" -gt 0 ] || fail "no send time"
t_ok
expect_eq "$(s 39321 direction)" '"out"' "direction of the denied local stream"
expect_eq "$(s 39321 sent_packets)" 0 "packets of the denied SSRC counted leaving"
expect_eq "$(s 39321 dropped)" 300 "packets of the denied SSRC dropped on the way out"
expect_eq "$(jq .egress_reasons.ssrc_drop "$T_TMP/stats.json")" 300 "egress ssrc_drop"
expect_eq "$(jq .egress_reasons.rtp "$T_TMP/stats.json")" 800 "egress RTP of the connection"
expect_eq "$(jq .egress_reasons.chain_end "$T_TMP/stats.json")" 500 "egress packets that ran every stage"
[ "$(jq .egress_reasons.unknown_flow "$T_TMP/stats.json")" -ge 50 ] || fail "other flows not counted as unknown_flow"
t_ok
expect_eq "$(jq .reasons.rtp "$T_TMP/stats.json")" 0 "nothing arrived: no ingress RTP"

# apply: local_streams in the file, checked before anything changes.
F=$T_TMP/apply.json
apply_doc() {   # LOCAL_STREAMS_JSON
  cat <<JSON
{"interfaces": [{"name": "$IF", "connections": [
  {"local": "$TB_RX_IP:5004", "remote": "$TB_TX_IP:7000", "streams": ["0x1234:96:90000"],
   "local_streams": ["0x5678:96:90000:rtx=0x5679/97", "0x9999:111:48000"],
   "chain": "header-stats ! ssrc-filter mode=deny ssrc=0x9999"},
  {"local": "$TB_RX_IP:5008", "chain": "header-stats", "local_streams": $1}]}]}
JSON
}
apply_doc '["1:96:90000:rtx=1/97"]' >"$F"
expect_error 1 "local_streams: RTX SSRC 1 is the stream's own" xi apply "$F"
apply_doc '"1:96:90000"' >"$F"
expect_error 1 "local_streams" xi apply "$F"
expect_eq "$(xi conn list "$IF" --json | jq '.connections | length')" 1 "connections after failed applies"
apply_doc '["0xa:96:90000"]' >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply ($T_ERR)"
expect_eq "$(xi conn list "$IF" --json | jq -c '[.connections[] | .local_streams]')" \
  '[["22136:96:90000:rtx=22137/97","39321:111:48000"],["10:96:90000"]]' "local streams after apply"
expect_eq "$(xi conn list "$IF" --json | jq '.connections[0].id')" "$id" "the first connection kept"
apply_doc '["0xb:96:90000"]' >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply of a changed local stream ($T_ERR)"
expect_eq "$(xi conn list "$IF" --json | jq -c '[.connections[] | .local_streams]')" \
  '[["22136:96:90000:rtx=22137/97","39321:111:48000"],["11:96:90000"]]' "the changed local stream"

# detach removes its own qdisc...
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
expect_eq "$(tb_rx tc qdisc show dev "$IF" | grep -c clsact)" 0 "clsact qdiscs after detach"
[ -z "$(tb_rx bpftool net show dev "$IF" | grep xi_tc_egress)" ] || fail "egress program still attached"
t_ok
# ...and only its own: a clsact (with another filter) that was there stays.
# Another filter: drop_seq of t74 for a port nobody uses, loaded by tc in a
# private bpffs (see t74).
clang -target bpf -O2 -g -mcpu=v3 -Wall -Werror -I/usr/include/x86_64-linux-gnu \
  -DDST_PORT=9 -DMEDIA_PT=96 -DMEDIA_SSRC=1 -DDROP_OFFSETS=0 \
  -c "$T_ROOT/tests/integration/drop_seq.bpf.c" -o "$T_TMP/other.o" || fail "cannot build drop_seq.bpf.c"
tc_private() {
  unshare --mount -- sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh \
    nsenter --net="/run/netns/$TB_RX_NS" -- tc "$@"
}
tc_private qdisc add dev "$IF" clsact || fail "tc qdisc add"
tc_private filter add dev "$IF" egress bpf direct-action obj "$T_TMP/other.o" sec tc ||
  fail "tc filter add"
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach beside an existing clsact ($T_ERR)"
expect_match "$(tb_rx bpftool net show dev "$IF")" "xi_tc_egress" "egress program attached beside it"
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
expect_eq "$(tb_rx tc qdisc show dev "$IF" | grep -c clsact)" 1 "the clsact that was there"
expect_match "$(tb_rx tc filter show dev "$IF" egress)" "other.o" "the other filter on it"
[ -z "$(tb_rx tc filter show dev "$IF" egress | grep xi_tc_egress)" ] || fail "our filter left behind"
t_ok
tb_rx tc qdisc del dev "$IF" clsact

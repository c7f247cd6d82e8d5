#!/usr/bin/env bash
# The example plugins of examples/plugins/, built the way an author would:
# make install into a DESTDIR, then each plugin's Makefile with pkg-config
# only. pt-filter drops exactly the payload types not allowed, in XDP, with
# its counters in `stats` and per payload type; a newer pt-filter installed
# under traffic serves new connections while the old ones keep the old
# stage until rebuilt; tshark decodes the PLIs of pli-generator.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup
rm -rf "$T_TMP"
T_TMP=$(mktemp -d -p "$T_BUILD" "xi-$T_NAME.XXXXXX")   # plugins need a root-only path

make -s -C "$T_ROOT" install DESTDIR="$T_TMP/dest" PREFIX=/usr >/dev/null || fail "make install"
export PKG_CONFIG_SYSROOT_DIR=$T_TMP/dest
export PKG_CONFIG_LIBDIR=$T_TMP/dest/usr/lib/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
export LD_LIBRARY_PATH=$T_TMP/dest/usr/lib   # the plugins need libxicept.so.0
cp -r "$T_ROOT/examples/plugins" "$T_TMP/src"
make -s -C "$T_TMP/src/pt-filter" >/dev/null || fail "building pt-filter"
make -s -C "$T_TMP/src/pt-filter" PTF_MINOR=1 SO=pt-filter-1.1.so >/dev/null || fail "building pt-filter 1.1"
make -s -C "$T_TMP/src/pli-generator" >/dev/null || fail "building pli-generator"
mkdir -p "$T_TMP/plugins" "$T_TMP/v11"
cp "$T_TMP/src/pt-filter/pt-filter.so" "$T_TMP/src/pt-filter/pt-filter.bpf.o" \
   "$T_TMP/src/pli-generator/pli-generator.so" "$T_TMP/plugins/"
cp "$T_TMP/src/pt-filter/pt-filter-1.1.so" "$T_TMP/src/pt-filter/pt-filter.bpf.o" "$T_TMP/v11/"
export XICEPT_PLUGIN_PATH=$T_TMP/plugins

IF=$TB_RX_IF
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
expect_eq "$T_ERR" "" "no plugin complained"
t_run xi conn add "$IF" --local "$TB_RX_IP:5010" --chain 'pt-filter pt=96,111 ! header-stats'
expect_eq "$T_RC" 0 "conn add with pt-filter ($T_ERR)"

# 40 x PT 96 and 20 x PT 111 pass; 30 x PT 100 and 10 x PT 0 are dropped in XDP.
sink_start 5010 --idle 1 --duration 20
for spec in "0x1111 96 40" "0x2222 100 30" "0x3333 111 20" "0x4444 0 10"; do
  read -r ssrc pt n <<<"$spec"
  tb_tx "$SEND" --to "$TB_RX_IP:5010" --ssrc "$ssrc" --pt "$pt" --count "$n" --rate 500 \
    --from-port 6010 >/dev/null || fail "xi-rtp-send"
done
sink_wait 5010
expect_eq "$(sink_get 5010 4369 packets)" 40 "PT 96 at the receiver"
expect_eq "$(sink_get 5010 13107 packets)" 20 "PT 111 at the receiver"
expect_eq "$(sink_get 5010 8738 packets)" 0 "PT 100 at the receiver"
expect_eq "$(sink_get 5010 17476 packets)" 0 "PT 0 at the receiver"
xi stats "$IF" --json >"$T_TMP/stats.json" || fail "stats"
expect_eq "$(jq '.reasons.plugin_drop' "$T_TMP/stats.json")" 40 "reason plugin_drop"
slot=$(xi status --json | jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | .programs[] | select(.interceptor == "pt-filter@1.0") | .stage')
[ -n "$slot" ] || fail "status shows no slot of pt-filter@1.0"
t_ok
pt_drops=$(bpftool map dump pinned "$TB_PIN_ROOT/$IF/p${slot}_ptf_pt_drops" -j |
  jq -c '[.[] | .formatted // . | {pt: .key.pt, n: ([.values[].value.packets] | add)}] | sort_by(.pt)')
expect_eq "$pt_drops" '[{"pt":0,"n":10},{"pt":100,"n":30}]' "drops per payload type"

# stats --json shows the plugin stage's counters per (connection, SSRC), under
# the fields its descriptor names, beside header-stats' own.
st() {   # CONN SSRC FIELD: from $T_TMP/stats.json
  jq --argjson c "$1" --argjson s "$2" \
    "[.connections[] | select(.id == \$c) | .ssrcs[] | select(.ssrc == \$s) | .$3] | first // \"missing\"" \
    "$T_TMP/stats.json"
}
expect_eq "$(st 1 8738 dropped)" 30 "stats --json: pt-filter's dropped for PT 100"
expect_eq "$(st 1 17476 dropped)" 10 "stats --json: pt-filter's dropped for PT 0"
expect_eq "$(st 1 4369 dropped)" 0 "stats --json: nothing dropped of PT 96"
expect_eq "$(st 1 4369 packets)" 40 "stats --json: header-stats' packets of PT 96"
# xi-rtp-send's 160-byte payloads: 30 x (12 RTP header + 160), as header-stats counts bytes.
expect_eq "$(st 1 8738 dropped_bytes)" "$((30 * 172))" "stats --json: pt-filter's dropped_bytes"
expect_eq "$(st 1 4369 bytes)" "$((40 * 172))" "stats --json: header-stats' bytes of PT 96"

# Version replacement under traffic: 1.1 installed while connection 1 (made
# with 1.0) has packets flowing. Connection 1 keeps the 1.0 stage; a new
# connection gets 1.1; status shows which each runs; each version's counters
# hold exactly its own connection's drops.
tb_tx "$SEND" --to "$TB_RX_IP:5010" --ssrc 0x5555 --pt 100 --count 600 --rate 300 \
  --from-port 6010 >"$T_TMP/long.json" &
LONG=$!
T_PIDS+=("$LONG")
sleep 0.5
kill -0 "$LONG" 2>/dev/null || fail "the long sender ended before 1.1 was installed"
export XICEPT_PLUGIN_PATH=$T_TMP/v11:$T_TMP/plugins
t_run xi registry list --json
expect_eq "$(jq -r '[.interceptors[] | select(.name == "pt-filter") | .version] | join(",")' <<<"$T_OUT")" \
  "1.1,1.0" "both versions in the catalog, newest first"
t_run xi conn add "$IF" --local "$TB_RX_IP:5012" --chain 'pt-filter pt=96 ! header-stats'
expect_eq "$T_RC" 0 "conn add under traffic with 1.1 installed ($T_ERR)"
kill -0 "$LONG" 2>/dev/null || fail "the long sender ended before the new connection was made"
t_ok
stages() {   # CONN: the XDP stages status shows for it
  xi status --json | jq -r --arg i "$IF" --argjson c "$1" \
    '.interfaces[] | select(.interface == $i) | .chains[] | select(.id == $c) | .stages | join(" ! ")'
}
expect_eq "$(stages 1)" "pt-filter@1.0 ! header-stats" "status: connection 1 keeps 1.0"
expect_eq "$(stages 2)" "pt-filter@1.1 ! header-stats" "status: connection 2 runs 1.1"
tb_tx "$SEND" --to "$TB_RX_IP:5012" --ssrc 0x6666 --pt 100 --count 25 --rate 500 >/dev/null ||
  fail "xi-rtp-send to connection 2"
wait "$LONG" || fail "the long sender failed"
expect_eq "$(jq .sent "$T_TMP/long.json")" 600 "long sender"
sleep 0.2
xi stats "$IF" --json >"$T_TMP/stats.json" || fail "stats"
expect_eq "$(st 1 21845 dropped)" 600 "connection 1 dropped every PT 100 packet, through 1.0"
expect_eq "$(st 2 26214 dropped)" 25 "connection 2 dropped its PT 100 packets, through 1.1"
expect_eq "$(jq '.reasons.plugin_drop' "$T_TMP/stats.json")" $((40 + 600 + 25)) "reason plugin_drop"
slot_of() {   # ID: the stage slot of NAME@VERSION
  xi status --json | jq -r --arg i "$IF" --arg id "$1" \
    '.interfaces[] | select(.interface == $i) | .programs[] | select(.interceptor == $id) | .stage'
}
slot11=$(slot_of pt-filter@1.1)
[ -n "$slot11" ] && [ "$slot11" != "$slot" ] || fail "1.1 has no slot of its own ('$slot11', 1.0: '$slot')"
t_ok
pt_drops_of() {
  bpftool map dump pinned "$TB_PIN_ROOT/$IF/p${1}_ptf_pt_drops" -j |
    jq -c '[.[] | .formatted // . | {conn: .key.conn_id, pt: .key.pt, n: ([.values[].value.packets] | add)}] | sort_by(.conn, .pt)'
}
expect_eq "$(pt_drops_of "$slot" | jq -c '[.[] | {pt, n}]')" '[{"pt":0,"n":10},{"pt":100,"n":630}]' \
  "1.0's per-PT drops: connection 1 only"
expect_eq "$(pt_drops_of "$slot11" | jq -c '[.[] | {pt, n}]')" '[{"pt":100,"n":25}]' \
  "1.1's per-PT drops: connection 2 only"

# set-chain away from the plugin stage leaves none of connection 2's entries
# in the stage's per-connection and per-stream maps (swept by their keying,
# as conn del does), and connection 1's stay.
entries_of() {   # SLOT MAP CONN: how many entries of CONN the pinned map holds
  bpftool map dump pinned "$TB_PIN_ROOT/$IF/p${1}_$2" -j |
    jq --argjson c "$3" '[.[] | .formatted // . | select((.key | if type == "object" then .conn_id else . end) == $c)] | length'
}
expect_eq "$(entries_of "$slot11" ptf_conns 2)" 1 "before set-chain: connection 2's config in 1.1's ptf_conns"
expect_eq "$(entries_of "$slot11" ptf_drops 2)" 1 "before set-chain: connection 2's SSRC in 1.1's ptf_drops"
c1_drops=$(entries_of "$slot" ptf_drops 1)
[ "$c1_drops" -gt 0 ] || fail "connection 1 has no entries in 1.0's ptf_drops"
t_run xi conn set-chain "$IF" 2 'header-stats'
expect_eq "$T_RC" 0 "set-chain 2 to header-stats ($T_ERR)"
expect_eq "$(stages 2)" "header-stats" "status: connection 2 runs header-stats only"
expect_eq "$(entries_of "$slot11" ptf_conns 2)" 0 "after set-chain: nothing of connection 2 in ptf_conns"
expect_eq "$(entries_of "$slot11" ptf_drops 2)" 0 "after set-chain: nothing of connection 2 in ptf_drops"
expect_eq "$(entries_of "$slot" ptf_conns 1)" 1 "after set-chain: connection 1's config stays in 1.0's"
expect_eq "$(entries_of "$slot" ptf_drops 1)" "$c1_drops" "after set-chain: connection 1's SSRCs stay in 1.0's"

# Rebuilt, connection 1's successor gets 1.1.
t_run xi conn del "$IF" 1
expect_eq "$T_RC" 0 "conn del 1 ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5010" --chain 'pt-filter pt=96,111 ! header-stats'
expect_eq "$T_RC" 0 "conn add again ($T_ERR)"
id=$(xi conn list "$IF" --json | jq -r '.[] | select(.local == "'"$TB_RX_IP"':5010") | .id' 2>/dev/null)
[ -n "$id" ] || id=$(xi status --json | jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | .chains[] | select(.id != 2) | .id')
expect_eq "$(stages "$id")" "pt-filter@1.1 ! header-stats" "status: the rebuilt connection runs 1.1"

# pli-generator end to end: every `interval` a PLI (RFC 4585 PSFB FMT 1) for
# the stream, and one at once on a gap larger than `gap` (10 missing > 5),
# none for a gap of 3; tshark decodes them on the sender's side.
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --stream 0x8888:96:90000 \
  --chain 'pli-generator interval=400ms gap=5 sender-ssrc=0x77'
expect_eq "$T_RC" 0 "conn add with pli-generator ($T_ERR)"
run_start
tx_capture_start "udp port 5004"
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x8888 --seq 100 --count 250 --rate 100 \
  --skip 150-159,200-202 --from-port 6014 >/dev/null || fail "xi-rtp-send to pli-generator"
sleep 0.3
kill -TERM "$CAP"
wait "$CAP"
run_stop TERM
expect_eq "$(tshark_fields "rtcp.pt == 206" -e rtcp.psfb.fmt -e rtcp.senderssrc -e rtcp.mediassrc | sort -u)" \
  "1 0x00000077 0x00008888" "every PLI: PSFB FMT 1, sender 0x77, media 0x8888"
tshark_fields "rtcp.psfb.fmt == 1" -e frame.time_relative >"$T_TMP/pli.txt"
tshark -r "$T_TMP/tx.pcapng" -d udp.port==5004,rtp -Y "udp.dstport == 5004 && rtp.ssrc == 0x8888" \
  -T fields -e frame.time_relative -e rtp.seq 2>/dev/null >"$T_TMP/rtp.txt"
t_run python3 - "$T_TMP/pli.txt" "$T_TMP/rtp.txt" <<'PY'
import sys
plis = [float(l) for l in open(sys.argv[1]) if l.strip()]
rtp = {int(s): float(t) for t, s in (l.split() for l in open(sys.argv[2]) if l.strip())}
after_gap = rtp[160]
# The gap PLI: a PLI sent within 20 ms of the first packet after the gap.
# The interval's own may fall due in the same 20 ms (its timer runs on its
# own, as pion's does): then two are there, and one of them is the gap's.
near = [p for p in plis if 0 <= p - after_gap < 0.020]
if not 1 <= len(near) <= 2:
    sys.exit(f"{len(near)} PLIs within 20 ms of seq 160 (at {after_gap:.3f}): {plis}")
rest = [p for p in plis if p is not near[-1]]
deltas = [round(b - a, 3) for a, b in zip(rest, rest[1:])]
if len(rest) < 5 or any(not 0.300 <= d <= 0.500 for d in deltas):
    sys.exit(f"interval PLIs not every 400 ms (the gap of 3 must add none): {deltas}")
print(len(rest))
PY
[ "$T_RC" -eq 0 ] || fail "PLI timing: $T_ERR"
t_ok

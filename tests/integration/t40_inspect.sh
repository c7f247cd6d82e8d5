#!/usr/bin/env bash
# bpftool sees what xicept made: the xi_* programs by name, and pinned maps
# dumped with named fields (BTF), holding the counters 'xicept stats' shows.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
PIN=$TB_PIN_ROOT/$IF
t_run xi attach "$IF" --mode skb
expect_eq "$T_RC" 0 "attach ($T_ERR)"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain 'ssrc-filter mode=deny ssrc=0x99 ! header-stats'
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
id=$T_OUT
sink_start 5004 --idle 0.5
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x4321 --count 10 --rate 1000 >/dev/null || fail "send"
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 0x99 --count 7 --rate 1000 >/dev/null || fail "send"
sink_wait 5004

# status names the programs; bpftool agrees on ids and names.
t_run xi status --json
status=$(jq --arg i "$IF" '.interfaces[] | select(.interface == $i)' <<<"$T_OUT")
expect_eq "$(jq -r .mode <<<"$status")" skb "status mode"
entry_id=$(jq '.programs[] | select(.role == "entry") | .id' <<<"$status")
expect_eq "$(bpftool -j prog show id "$entry_id" | jq -r .name)" xi_entry "bpftool name of the entry program"
for prog in xi_ssrc_filter xi_header_stats; do
  pid=$(jq --arg p "$prog" '.programs[] | select(.name == $p) | .id' <<<"$status")
  [ -n "$pid" ] || fail "status lists no $prog program"
  expect_eq "$(bpftool -j prog show id "$pid" | jq -r .name)" "$prog" "bpftool name of $prog"
done
expect_eq "$(bpftool -j prog show pinned "$PIN/xi_entry" | jq .id)" "$entry_id" "pinned xi_entry id"
t_run tb_rx ip -d link show "$IF"
expect_match "$T_OUT" "prog/xdp id $entry_id" "ip link shows xi_entry attached"

# Pinned maps dump with named fields.
for map in xi_flows4 xi_flows6 xi_conns xi_reasons xi_stream_stats xi_ssrc_drops; do
  [ -e "$PIN/$map" ] || fail "no pinned map $map"
  t_ok
done
bpftool -j map dump pinned "$PIN/xi_stream_stats" >"$T_TMP/dump.json" || fail "bpftool map dump xi_stream_stats"
expect_eq "$(jq --argjson c "$id" '[.[] | .formatted // . | select(.key.conn_id == $c and .key.ssrc == 17185)] | length' "$T_TMP/dump.json")" \
  1 "xi_stream_stats entry with key {conn_id, ssrc}"
bpftool -j map dump pinned "$PIN/xi_ssrc_drops" >"$T_TMP/drops.json" || fail "bpftool map dump xi_ssrc_drops"
# Per CPU: one value per CPU, which sum to the drops.
expect_eq "$(jq --argjson c "$id" '[.[] | .formatted // . | select(.key.conn_id == $c and .key.ssrc == 153) | [.values[].value.packets] | add] | first' "$T_TMP/drops.json")" \
  7 "xi_ssrc_drops packets for 0x99, summed over CPUs"
t_run bpftool map dump pinned "$PIN/xi_conns"
expect_match "$T_OUT" "\"key\": $id" "xi_conns dumped by connection id"

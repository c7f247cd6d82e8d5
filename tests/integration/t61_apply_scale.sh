#!/usr/bin/env bash
# Table sizes at attach, and apply at scale: 10,000 connections installed,
# re-applied without a change, refused past the limit, removed, and a failed
# run of 10,000 adds undone. Correctness only: speed is `make bench`'s.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
PIN=$TB_PIN_ROOT/$IF
F=$T_TMP/scale.json
N=10000

# ---- attach options: refused values change nothing ----
for bad in 0 -1 abc 16777217 0x1000001 ''; do
  expect_error 2 "invalid --max-conns '$bad' \(expected 1 to 16777216\)" \
    xi attach "$IF" --max-conns "$bad"
  [ ! -e "$PIN" ] || fail "a refused --max-conns '$bad' attached $IF"
done
expect_error 2 "invalid --max-flows 'x'" xi attach "$IF" --max-flows x
expect_error 2 "invalid --max-streams '0'" xi attach "$IF" --max-streams 0
[ ! -e "$PIN" ] || fail "a refused size attached $IF"
t_run xi attach --help
expect_match "$T_OUT" "--max-conns N +connections the interface can hold; default 65536" "attach --help"

# ---- sizes as given, read back by any process ----
t_run xi attach "$IF" --max-conns "$N" --max-flows 0x2710 --max-streams 20000
expect_eq "$T_RC" 0 "attach with sizes ($T_ERR)"
t_run xi status
expect_match "$T_OUT" "  tables  10000 connections, 10000 flows, 20000 streams" "status text"
st=$(xi status --json | jq -c --arg i "$IF" '.interfaces[] | select(.interface == $i)
  | [.max_conns, .max_flows, .max_streams]')
expect_eq "$st" "[10000,10000,20000]" "status --json sizes"

# ---- 10,000 connections: each its own remote, two streams, both stages ----
gen() {   # COUNT [EXTRA-INTERFACE]
  jq -n --arg i "$IF" --arg a "$TB_RX_IP" --argjson n "$1" --arg x "${2:-}" '
    {interfaces: ([{name: $i, connections: [range($n) as $k |
      {local: "\($a):\(10000 + $k)",
       remote: "10.\(100 + ($k / 250 | floor)).0.\(1 + $k % 250):6000",
       chain: "ssrc-filter mode=allow ssrc=\(2 * $k + 1),\(2 * $k + 2) ! header-stats",
       streams: ["\(2 * $k + 1):96:90000", "\(2 * $k + 2):111:48000"]}]}]
     + (if $x == "" then [] else [{name: $x, mode: "native"}] end))}'
}
count() {   # entries of a pinned map in use (an array's slots: those not all zero)
  if bpftool -j map show pinned "$PIN/$1" | jq -e '.type == "array"' >/dev/null; then
    bpftool -j map dump pinned "$PIN/$1" | jq '[.[] | (.formatted.value // .value) | tostring | select(test("[1-9]|0x[0-9a-f]*[a-f]"))] | length'
  else
    bpftool -j map dump pinned "$PIN/$1" | jq length
  fi
}
gen "$N" >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply of $N connections ($T_ERR)"
expect_eq "$(tail -n1 <<<"$T_OUT")" "$N changes" "apply of $N connections"
expect_eq "$(xi conn list "$IF" --json | jq '.connections | length')" "$N" "conn list count"
expect_eq "$(xi status --json | jq --arg i "$IF" '.interfaces[] | select(.interface == $i)
  | .connections | length')" "$N" "status count"
expect_eq "$(xi conn list "$IF" --json | jq '[.connections[].id] | max')" "$N" "ids are dense"
expect_eq "$(count xi_flows4)" "$N" "flows"
expect_eq "$(count xi_clock_rates)" $((2 * N)) "clock rates"
expect_eq "$(count xi_ssrc_lists)" $((2 * N)) "ssrc-filter lists"

# The same file again changes nothing.
t_run xi apply "$F"
expect_eq "$T_RC" 0 "re-apply ($T_ERR)"
expect_eq "$T_OUT" "no changes" "re-apply"

# ---- the limit: one more is refused by name, and leaves nothing ----
expect_error 1 "connection table full: at most $N \(attach with a larger --max-conns\)" \
  xi conn add "$IF" --local "$TB_RX_IP:5004" --chain header-stats --stream 0x99:96:90000
expect_eq "$(count xi_flows4)" "$N" "flows after the refused add"
expect_eq "$(count xi_clock_rates)" $((2 * N)) "clock rates after the refused add"

# ---- all removed by one apply, every entry with them ----
jq '.interfaces[0].connections = []' "$F" >"$T_TMP/empty.json"
t_run xi apply "$T_TMP/empty.json"
expect_eq "$T_RC" 0 "apply of no connections ($T_ERR)"
expect_eq "$(tail -n1 <<<"$T_OUT")" "$N changes" "apply of no connections"
expect_eq "$(xi conn list "$IF" --json | jq '.connections | length')" 0 "conn list after removal"
for map in xi_flows4 xi_flows6 xi_conn_meta xi_ssrc_filters xi_ssrc_lists xi_clock_rates xi_stream_stats; do
  expect_eq "$(count "$map")" 0 "$map after removal"
done

# ---- a run that fails after 10,000 adds is undone in full ----
# An ifb has no native XDP: its attach fails after $IF's adds.
DUMMY=xid$TB_ID
T_EXTRA_PINS+=("$DUMMY")
tb_rx ip link add "$DUMMY" type ifb || fail "cannot add $DUMMY"
gen "$N" "$DUMMY" >"$T_TMP/fails.json"
expect_error 1 "apply failed: $DUMMY: attach: .*\(undid $N changes\)" xi apply "$T_TMP/fails.json"
expect_eq "$(xi conn list "$IF" --json | jq '.connections | length')" 0 "connections after the undone run"
expect_eq "$(count xi_clock_rates)" 0 "clock rates after the undone run"
[ ! -e "$TB_PIN_ROOT/$DUMMY" ] || fail "the failed attach left pins for $DUMMY"
t_ok

# ---- sizes in FILE: a changed one re-attaches, the others are kept ----
gen 2 | jq '.interfaces[0].max_streams = 30000' >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply of a new size ($T_ERR)"
expect_match "$T_OUT" "$IF: detached" "a new size detaches"
expect_match "$T_OUT" "$IF: attached" "a new size re-attaches"
st=$(xi status --json | jq -c --arg i "$IF" '.interfaces[] | select(.interface == $i)
  | [.max_conns, .max_flows, .max_streams, (.connections | length)]')
expect_eq "$st" "[10000,10000,30000,2]" "sizes and connections after the re-attach"
t_run xi apply "$F"
expect_eq "$T_OUT" "no changes" "apply of the same sizes"
jq '.interfaces[0].max_conns = 0' "$F" >"$T_TMP/bad.json"
expect_error 1 "interfaces\[0\]: 'max_conns' must be an integer from 1 to 16777216" \
  xi apply "$T_TMP/bad.json"

#!/usr/bin/env bash
# A connection's chain switched while 1 Mpps flows through it, between a
# pure-XDP chain and one with a userspace part, by `conn set-chain` and by
# `apply`: no packet lost, every packet counted under exactly the chain
# version it read with exactly that version's stages, header-stats' state
# kept across the switches, and bad input refused with nothing changed.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

GEN=$T_BUILD/bench/xi-gen
SOCK=$T_BUILD/bench/socket-baseline
for bin in "$GEN" "$SOCK"; do
  [ -x "$bin" ] || fail "$bin is missing: run 'make bench-tools' first"
done
IF=$TB_RX_IF
RATE=${T81_RATE:-1.1}          # offered Mpps; the check is on what was sent
COUNT=${T81_COUNT:-4000000}
SSRCS=4
BASE=0x5eed0000
A='header-stats'                       # pure XDP: stage 2
B='header-stats ! nack-generator'      # XDP, then the tap (stage 4) to `xicept run`
MASK_A=$((1 << 2))
MASK_B=$(((1 << 2) | (1 << 4)))
F=$T_TMP/apply.json

HOLD=xih$TB_ID
tb_tx ip link add "$HOLD" type veth peer name "xij$TB_ID" || fail "spare veth"
tb_tx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
tb_rx sysctl -qw net.ipv6.conf.all.disable_ipv6=1
RX_MAC=$(tb_mac rx "$IF")

xi attach "$IF" >/dev/null || fail "attach"
t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --remote "$TB_TX_IP:6000" --chain "$A"
expect_eq "$T_RC$T_OUT" "01" "conn add ($T_ERR)"
apply_file() {   # CHAIN
  cat >"$F" <<EOF
{"interfaces": [{"name": "$IF", "connections": [
  {"local": "$TB_RX_IP:5004", "remote": "$TB_TX_IP:6000", "chain": "$1"}]}]}
EOF
}

# ---- bad input: one line, nothing changes ----
state() { xi conn list "$IF" --json | jq -c '[.connections[] | {id, chain, version}]'; }
before=$(state)
expect_error 1 "ssrc-filtr.*did you mean '?ssrc-filter" xi conn set-chain "$IF" 1 'ssrc-filtr mode=allow ssrc=1'
expect_error 1 "ssrc-filter.*mode" xi conn set-chain "$IF" 1 'ssrc-filter mode=sometimes ssrc=1'
expect_error 1 "$IF has no connection 7" xi conn set-chain "$IF" 7 "$B"
expect_error 2 "set-chain needs" xi conn set-chain "$IF" 1
xi conn set-chain "$IF" 1 'ssrc-filter mode=allow ssrc=1 ! header-stats' >/dev/null || fail "set-chain"
expect_error 1 "ssrc-filter: its configuration differs" \
  xi conn set-chain "$IF" 1 'ssrc-filter mode=allow ssrc=2 ! header-stats'
xi conn set-chain "$IF" 1 "$A" >/dev/null || fail "set-chain back"
expect_eq "$(xi conn list "$IF" --json | jq -c '[.connections[] | {chain, version}]')" \
  "[{\"chain\":\"$A\",\"version\":3}]" "two switches: version 3"
before=$(state)
printf '{"interfaces": [{"name": "%s", "connections": [{"local": "%s:5004", "chain": "nosuch"}]}]}\n' \
  "$IF" "$TB_RX_IP" >"$F"
expect_error 1 "nosuch" xi apply --dry-run "$F"
printf '{"interfaces": [\n' >"$F"
expect_error 1 "apply.json:2:" xi apply --dry-run "$F"
expect_eq "$(state)" "$before" "bad input changed nothing"
apply_file "$B"
t_run xi apply --dry-run "$F"
expect_eq "$T_RC" 0 "apply --dry-run ($T_ERR)"
expect_eq "$T_OUT" "set-chain $IF 1: '$A' -> '$B'
plan: 1 change, nothing changed" "the plan"
expect_eq "$(state)" "$before" "--dry-run changed nothing"

# ---- 1 Mpps through the switches ----
run_start
nsenter --net="/run/netns/$TB_RX_NS" -- "$SOCK" --bind "$TB_RX_IP:5004" --cpu 1 --mode count \
  --ready "$T_TMP/sock-ready" --idle 1 >"$T_TMP/sock" 2>"$T_TMP/sock.err" &
SOCK_PID=$!
T_PIDS+=("$SOCK_PID")
for _ in $(seq 100); do [ -e "$T_TMP/sock-ready" ] && break; sleep 0.05; done
[ -e "$T_TMP/sock-ready" ] || fail "socket-baseline did not start: $(cat "$T_TMP/sock.err")"
xi stats "$IF" --json >"$T_TMP/before.json" || fail "stats"
veth_drops() { tb_tx ip -j -s link show "$TB_TX_IF" | jq '.[0].stats64.tx.dropped'; }
drops0=$(veth_drops)

# Chunks of 4096 frames a live test-run call: each call builds and tears
# down a page pool and leaves a gap in which the socket's reader sleeps, so
# 256-frame calls cost the pass path's core 6-22 % of its rate and 4096 1-18 %
# (bench/results/engine-findings.md, "The generator's own cost").
tb_tx "$GEN" --ifname "$TB_TX_IF" --dst-mac "$RX_MAC" --src "$TB_TX_IP:6000" --dst "$TB_RX_IP:5004" \
  --ssrcs "$SSRCS" --ssrc-base "$BASE" --count "$COUNT" --start 1 --cpu 0 \
  --rate "$RATE" --chunk "${T81_CHUNK:-4096}" --hold "$HOLD" >"$T_TMP/gen" 2>&1 &
GEN_PID=$!
T_PIDS+=("$GEN_PID")
# Switch while it runs: by set-chain and by apply, both ways.
sleep 0.3
switches=0
chains=("$A")   # chains[v-3] is version v's chain, from version 3 on
while kill -0 "$GEN_PID" 2>/dev/null && [ "$switches" -lt 12 ]; do
  if ((switches % 2 == 0)); then next=$B; else next=$A; fi
  if ((switches % 4 < 2)); then
    t_run xi conn set-chain "$IF" 1 "$next"
  else
    apply_file "$next"
    t_run xi apply "$F"
  fi
  expect_eq "$T_RC" 0 "switch $switches ($T_ERR)"
  chains+=("$next")
  switches=$((switches + 1))
  sleep 0.15
done
wait "$GEN_PID" || fail "xi-gen failed: $(cat "$T_TMP/gen")"
wait "$SOCK_PID" || fail "socket-baseline: $(cat "$T_TMP/sock.err")"
sleep 0.3   # the daemon drains the tap ring
run_stop INT
((switches >= 6)) || fail "only $switches switches while the generator ran"
t_ok

gen=$(cat "$T_TMP/gen")
sent=$(sed -n 's/.*\bsent=\([0-9]*\).*/\1/p' <<<"$gen")
ns=$(sed -n 's/.*\bns=\([0-9]*\).*/\1/p' <<<"$gen")
mpps=$(awk -v c="$sent" -v ns="$ns" 'BEGIN { printf "%.3f", c * 1e3 / ns }')
vdrops=$(($(veth_drops) - drops0))
xi stats "$IF" --json >"$T_TMP/after.json" || fail "stats"
d() { echo $(($(jq "$1" "$T_TMP/after.json") - $(jq "$1" "$T_TMP/before.json"))); }
rtp=$(d .reasons.rtp)
got=$(sed -n 's/.*\breceived=\([0-9]*\).*/\1/p' "$T_TMP/sock")
echo "t81: sent $sent at $mpps Mpps, $switches switches; tx veth drops $vdrops; xicept rtp $rtp; socket $got" >&2
# The rate depends on the machine: on this shared 2-core one, other builds
# take CPU 0 from the generator. Below the minimum the correctness checks
# still run, and the run says loudly that the rate was not proven;
# T81_STRICT_RATE=1 makes it a failure.
if awk -v m="$mpps" -v min="${T81_MIN_MPPS:-1.0}" 'BEGIN { exit !(m >= min) }'; then
  t_ok
else
  [ "${T81_STRICT_RATE:-0}" = 1 ] && fail "sent at $mpps Mpps, under ${T81_MIN_MPPS:-1.0}"
  echo "t81: RATE NOT MET: sent at $mpps Mpps, under ${T81_MIN_MPPS:-1.0} (busy machine);" \
    "the checks below hold at this rate only" >&2
fi
# Every frame that reached the interface entered the chain, and reached the
# socket: none lost in a switch.
expect_eq "$rtp" "$((sent - vdrops))" "frames that entered the chain"
expect_eq "$got" "$rtp" "datagrams at the socket"
expect_eq "$(sed -n 's/.*\bsocket_drops=\([0-9]*\).*/\1/p' "$T_TMP/sock")" 0 "the socket's drops"
for r in unknown_flow no_conn tailcall_fail; do
  expect_eq "$(d .reasons.$r)" 0 "$r"
done

# Per version: exactly that version's stages, and every packet counted once.
xi conn list "$IF" --json >"$T_TMP/conns.json"
total=0
while read -r v mask pk; do
  ((v >= 3)) || fail "packets of version $v, set before the traffic"
  chain=${chains[$((v - 3))]}
  want=$MASK_A
  [ "$chain" = "$B" ] && want=$MASK_B
  expect_eq "$mask" "$want" "stages run by version $v ($chain)"
  total=$((total + pk))
done < <(jq -r '.connections[0].runs[] | "\(.version) \(.stages_mask) \(.packets)"' "$T_TMP/conns.json")
expect_eq "$total" "$rtp" "packets counted by version"
nv=$(jq '.connections[0].runs | length' "$T_TMP/conns.json")
((nv >= 4)) || fail "packets under only $nv versions"
t_ok

# header-stats ran in every version: its per-SSRC state went on through
# every switch (packets counted once each, sequence tracking unbroken).
pk=$(jq '[.connections[0].ssrcs[].packets] | add' "$T_TMP/after.json")
expect_eq "$pk" "$rtp" "header-stats packets across the switches"
lost=$(jq '[.connections[0].ssrcs[].lost] | add' "$T_TMP/after.json")
expect_eq "$lost" "$vdrops" "header-stats lost (the frames the tx veth dropped)"
for s in $(jq -r '.connections[0].ssrcs[].ssrc' "$T_TMP/after.json"); do
  f0=$(jq --argjson s "$s" '[.connections[0].ssrcs[] | select(.ssrc == $s) | .first_ns] | first' "$T_TMP/before.json")
  [ "$f0" = null ] || fail "SSRC $s had stats before the run"
done
t_ok

# The daemon observed every tap record of the B versions it could read.
obs=$(sed -n 's/.* \([0-9]*\) observed (tap.*/\1/p' "$RUN_LOG" | tail -1)
b_pk=$(jq --argjson m "$MASK_B" '[.connections[0].runs[] | select(.stages_mask == $m) | .packets] | add // 0' "$T_TMP/conns.json")
full=$(d .reasons.tap_full)
echo "t81: B versions $b_pk packets, tap records observed $obs, tap_full $full" >&2
expect_eq "$obs" "$((b_pk - full))" "tap records observed"

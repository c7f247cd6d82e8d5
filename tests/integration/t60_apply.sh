#!/usr/bin/env bash
# xicept apply: a declarative file checked in full before anything changes,
# applied idempotently, and undone in full when a step fails midway.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
PIN=$TB_PIN_ROOT/$IF
EX=$T_ROOT/examples
F=$T_TMP/config.json

# The shipped examples, pointed at this testbed.
example() {
  jq --arg i "$IF" --arg a "$TB_RX_IP" --arg p "$TB_TX_IP" '
    .interfaces[0].name = $i
    | .interfaces[0].connections |= map(
        .local |= sub("^10\\.0\\.0\\.2"; $a)
        | if .remote then .remote |= sub("^10\\.0\\.0\\.[13]"; $p) else . end
        | select(.local | startswith("[") | not))' "$EX/$1"
}

conns() {   # the connections of $IF, ids left out, in a stable order
  xi conn list "$IF" --json | jq -c '[.connections[] | {local, remote, chain, streams}] | sort'
}

# ---- invalid files change nothing ----
bad_file() {   # REGEX JSON-TEXT
  printf '%s\n' "$2" >"$F"
  expect_error 1 "$1" xi apply "$F"
  [ ! -e "$PIN" ] || fail "a rejected file attached $IF"
}
bad_file "config\.json:3:5: " $'{\n  "interfaces": [\n    ,\n  ]\n}'
expect_error 1 "nosuch\.json: .*No such file" xi apply "$T_TMP/nosuch.json"
bad_file "'interfaces' must be an array" '{}'
bad_file "\(top level\): unknown key 'interface'" '{"interface": []}'
bad_file "'interfaces' must be an array" '{"interfaces": {}}'
bad_file "interfaces\[0\]: unknown key 'nmae'" "{\"interfaces\": [{\"nmae\": \"$IF\"}]}"
bad_file "interfaces\[0\]: no such interface 'xinosuch0'" '{"interfaces": [{"name": "xinosuch0"}]}'
bad_file "interfaces\[0\]: invalid mode 'fast'" "{\"interfaces\": [{\"name\": \"$IF\", \"mode\": \"fast\"}]}"
bad_file "interfaces\[1\]: interface '$IF' is named twice" "{\"interfaces\": [{\"name\": \"$IF\"}, {\"name\": \"$IF\"}]}"
bad_file "interfaces\[0\]\.connections\[1\]: .*ssrc-filtr.*did you mean '?ssrc-filter" \
  "{\"interfaces\": [{\"name\": \"$IF\", \"connections\": [
     {\"local\": \"$TB_RX_IP:5004\", \"chain\": \"header-stats\"},
     {\"local\": \"$TB_RX_IP:5006\", \"chain\": \"ssrc-filtr mode=allow ssrc=1\"}]}]}"
bad_file "connections\[0\]: local: .*10\.199\.0\.300" \
  "{\"interfaces\": [{\"name\": \"$IF\", \"connections\": [{\"local\": \"10.199.0.300:5004\", \"chain\": \"header-stats\"}]}]}"
bad_file "connections\[0\]: streams: .*0x1ffffffff" \
  "{\"interfaces\": [{\"name\": \"$IF\", \"connections\": [{\"local\": \"$TB_RX_IP:5004\", \"chain\": \"header-stats\", \"streams\": [\"0x1ffffffff:96:90000\"]}]}]}"
bad_file "connections\[0\]: 'chain' is required" \
  "{\"interfaces\": [{\"name\": \"$IF\", \"connections\": [{\"local\": \"$TB_RX_IP:5004\"}]}]}"
bad_file "connections\[1\]: the same local and remote as connections\[0\]" \
  "{\"interfaces\": [{\"name\": \"$IF\", \"connections\": [
     {\"local\": \"$TB_RX_IP:5004\", \"chain\": \"header-stats\"},
     {\"local\": \"$TB_RX_IP:5004\", \"chain\": \"header-stats\"}]}]}"
bad_file "duplicate object key" "{\"interfaces\": [{\"name\": \"$IF\", \"name\": \"$IF\"}]}"

# ---- apply, then apply again ----
example apply-sfu.json >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply ($T_ERR)"
expect_match "$T_OUT" "^$IF: attached \(native mode, unknown flows pass\)" "first apply output"
expect_match "$T_OUT" "3 changes$" "first apply: attach and two connections"
want=$(jq -c '[.interfaces[0].connections[] | {local, remote: (.remote // "*"), chain,
  streams: [(.streams // [])[] | split(":") | "0x\(.[0][2:] | ascii_downcase | ("00000000" + .)[-8:]):\(.[1]):\(.[2])"]}] | sort' "$F")
expect_eq "$(conns)" "$want" "connections after apply"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "second apply ($T_ERR)"
expect_eq "$T_OUT" "no changes" "second apply"

# ---- change one chain, drop one connection ----
jq '.interfaces[0].connections |= [.[0] | .chain = "ssrc-filter mode=allow ssrc=0x1234 ! header-stats"]' "$F" >"$F.new"
mv "$F.new" "$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply of the changed file ($T_ERR)"
expect_eq "$(grep -c ': deleted connection' <<<"$T_OUT")" 2 "connections deleted"
expect_eq "$(grep -c ': added connection' <<<"$T_OUT")" 1 "connections added"
expect_eq "$(conns | jq -r '.[].chain')" "ssrc-filter mode=allow ssrc=0x1234 ! header-stats" "the changed chain"
t_run xi apply "$F"
expect_eq "$T_OUT" "no changes" "apply of the changed file, again"

# ---- a failure midway undoes the run ----
# An ifb interface exists (so the file is valid) but has no native XDP, so
# the run fails after re-attaching $IF in skb mode and changing its connections.
DUMMY=xid$TB_ID
T_EXTRA_PINS+=("$DUMMY")
tb_rx ip link add "$DUMMY" type ifb || fail "cannot add $DUMMY"
before=$(conns)
jq --arg d "$DUMMY" --arg a "$TB_RX_IP" '
  .interfaces[0].mode = "skb"
  | .interfaces[0].connections += [{"local": "\($a):5010", "chain": "header-stats"}]
  | .interfaces += [{"name": $d, "mode": "native"}]' "$F" >"$T_TMP/fails.json"
expect_error 1 "apply failed: $DUMMY: attach: .*\(undid [0-9]+ changes\)" xi apply "$T_TMP/fails.json"
expect_eq "$(conns)" "$before" "connections after the undone run"
expect_eq "$(xi status --json | jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | .mode')" \
  native "mode after the undone run"
[ ! -e "$TB_PIN_ROOT/$DUMMY" ] || fail "the failed attach left pins for $DUMMY"
t_ok

# ---- the basic example, and a mode change ----
example apply-basic.json | jq '.interfaces[0].mode = "skb"' >"$F"
t_run xi apply "$F"
expect_eq "$T_RC" 0 "apply basic ($T_ERR)"
expect_match "$T_OUT" "$IF: detached" "mode change detaches"
expect_match "$T_OUT" "$IF: attached \(skb mode" "mode change re-attaches"
expect_eq "$(conns | jq length)" 1 "connections of the basic example"
t_run xi apply "$F"
expect_eq "$T_OUT" "no changes" "apply basic, again"

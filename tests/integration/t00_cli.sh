#!/usr/bin/env bash
# The CLI's contract without traffic: --help everywhere, usage errors (exit 2),
# runtime errors (exit 1, one line naming the problem), and nothing half-applied.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
L=$TB_RX_IP:5004

# --help on every command: usage on stdout, exit 0.
for cmd in "" attach detach conn "conn add" "conn del" "conn list" stats status \
           registry "registry list" apply run; do
  # shellcheck disable=SC2086
  t_run "$XICEPT" $cmd --help
  expect_eq "$T_RC" 0 "'xicept $cmd --help' exit status"
  expect_match "$T_OUT" "^Usage: xicept" "'xicept $cmd --help' output"
done

# 'xicept --help' lists every command, and every command it lists exists.
t_run "$XICEPT" --help
help=$T_OUT
for cmd in attach detach conn stats status registry apply run; do
  expect_match "$help" $'\n'"  $cmd " "'xicept --help' lists $cmd"
done
listed=$(sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' <<<"$help" | sort -u)
[ -n "$listed" ] || fail "'xicept --help' lists no command"
for cmd in $listed; do
  t_run "$XICEPT" "$cmd" --help
  expect_eq "$T_RC" 0 "'xicept $cmd --help', listed in 'xicept --help'"
done

# -v before or after the command.
t_run "$XICEPT" -v registry list
expect_eq "$T_RC" 0 "'xicept -v registry list'"
t_run "$XICEPT" registry list -v
expect_eq "$T_RC" 0 "'xicept registry list -v'"

# Usage errors: exit 2, the problem and a hint.
expect_error 2 "no command" "$XICEPT"
expect_error 2 "unknown command 'frob'" "$XICEPT" frob
expect_error 2 "unknown option '--bogus'" "$XICEPT" status --bogus
expect_error 2 "needs an interface name" xi attach
expect_error 2 "invalid mode 'fast'" xi attach "$IF" --mode fast
expect_error 2 "invalid policy 'maybe'" xi attach "$IF" --policy maybe
expect_error 2 "needs a value" xi attach "$IF" --mode
expect_error 2 "--local IP:PORT is required" xi conn add "$IF" --chain header-stats
expect_error 2 "--chain is required" xi conn add "$IF" --local "$L"
expect_error 2 "unknown conn subcommand 'move'" xi conn move "$IF"
expect_error 2 "invalid --watch '0'" xi stats "$IF" --watch 0

# registry list: every built-in with its kind, no root needed.
t_run setpriv --reuid=65534 --regid=65534 --clear-groups "$XICEPT" registry list --json
expect_eq "$T_RC" 0 "'registry list --json' as nobody"
reg=$T_OUT
expect_eq "$(jq -r '.interceptors[] | select(.name == "ssrc-filter") | .kind' <<<"$reg")" xdp "ssrc-filter kind"
expect_eq "$(jq -r '.interceptors[] | select(.name == "header-stats") | .kind' <<<"$reg")" xdp "header-stats kind"
expect_match "$(jq -r '[.interceptors[] | select(.name == "ssrc-filter") | .keys[].name] | join(",")' <<<"$reg")" \
  "(^|,)ssrc(,|$)" "ssrc-filter has an ssrc key"
expect_match "$(jq -r '[.interceptors[].kind] | unique | join(",")' <<<"$reg")" "^userspace,xdp$" "kinds listed"
expect_eq "$(jq -r '[.interceptors[] | select(.description == "")] | length' <<<"$reg")" 0 "interceptors without a description"
t_run "$XICEPT" registry list
expect_match "$T_OUT" $'\n''ssrc-filter +xdp ' "human registry list row"

# Not root: one line, exit 1, for every command that touches BPF.
for cmd in "attach $IF" "detach $IF" "conn list $IF" "stats $IF" status; do
  # shellcheck disable=SC2086
  expect_error 1 "must be run as root" setpriv --reuid=65534 --regid=65534 --clear-groups "$XICEPT" $cmd
done

# A missing interface, an unattached one.
expect_error 1 "no such interface 'xinosuch0'" xi attach xinosuch0
expect_error 1 "$IF is not attached" xi conn add "$IF" --local "$L" --chain header-stats
expect_error 1 "$IF is not attached" xi stats "$IF"
expect_error 1 "$IF is not attached" xi detach "$IF"
[ ! -e "$TB_PIN_ROOT/$IF" ] || fail "a failed command left pins behind"
t_ok

# Attach, then attach again.
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach ($T_ERR)"
expect_error 1 "$IF is already attached" xi attach "$IF"

# Bad connections: each one line, exit 1, and nothing added.
expect_error 1 "did you mean '?ssrc-filter'?\??" \
  xi conn add "$IF" --local "$L" --chain 'ssrc-filtr mode=allow ssrc=0x1234'
expect_error 1 "10\.199\.0\.300" xi conn add "$IF" --local 10.199.0.300:5004 --chain header-stats
expect_error 1 "port '70000'" xi conn add "$IF" --local "$TB_RX_IP:70000" --chain header-stats
expect_error 1 "port '0'" xi conn add "$IF" --local "$TB_RX_IP:0" --chain header-stats
expect_error 1 "--remote" xi conn add "$IF" --local "$L" --remote nohost:1 --chain header-stats
expect_error 1 "0x1ffffffff" xi conn add "$IF" --local "$L" --chain header-stats --stream 0x1ffffffff:96:90000
expect_error 1 "ssrc-filter: mode" xi conn add "$IF" --local "$L" --chain 'ssrc-filter mode=sometimes ssrc=1'
expect_error 1 "ssrc-filter: ssrc" xi conn add "$IF" --local "$L" --chain 'ssrc-filter mode=allow ssrc=0x1ffffffff'
expect_error 1 "unknown key 'foo'" xi conn add "$IF" --local "$L" --chain 'header-stats foo=1'
t_run xi conn list "$IF" --json
expect_eq "$(jq '.connections | length' <<<"$T_OUT")" 0 "connections after rejected adds"

# A good connection prints its id; del removes it; a second del fails.
t_run xi conn add "$IF" --local "$L" --remote "$TB_TX_IP:6000" \
  --chain 'ssrc-filter mode=allow ssrc=0x1234 ! header-stats' --stream 0x1234:96:90000
expect_eq "$T_RC" 0 "conn add ($T_ERR)"
expect_match "$T_OUT" '^[0-9]+$' "conn add output"
id=$T_OUT
t_run xi conn list "$IF" --json
expect_eq "$(jq -c "[.connections[] | {id, local, remote, streams}]" <<<"$T_OUT")" \
  "[{\"id\":$id,\"local\":\"$L\",\"remote\":\"$TB_TX_IP:6000\",\"streams\":[\"0x00001234:96:90000\"]}]" "conn list"
t_run xi stats "$IF" --json
expect_eq "$(jq -c "[.connections[] | {id, local, remote, ssrcs}]" <<<"$T_OUT")" \
  "[{\"id\":$id,\"local\":\"$L\",\"remote\":\"$TB_TX_IP:6000\",\"ssrcs\":[]}]" "stats before traffic"
expect_eq "$(jq -r '.reasons | type' <<<"$T_OUT")" object "stats reasons"
t_run xi stats "$IF"
# The columns come from the stages' stats schemas, placed by their rank.
expect_match "$T_OUT" "SSRC +PKTS +BYTES +PAYLOAD +LOST +EXT-SEQ +JITTER +DROPPED" "stats table header"
# --watch redraws until SIGINT, then exits 0; with --json, one document a line.
t_run tb_rx timeout --preserve-status -s INT 1.6 "$XICEPT" stats "$IF" --watch 0.5 --json
expect_eq "$T_RC" 0 "stats --watch after SIGINT ($T_ERR)"
expect_match "$(wc -l <<<"$T_OUT")" "^[345]$" "documents printed by --watch 0.5 in 1.6 s"
expect_eq "$(jq -s 'map(.connections | length) | unique' <<<"$T_OUT" | jq -c .)" "[1]" "each --watch document"
expect_error 1 "invalid connection id 'abc'" xi conn del "$IF" abc
expect_error 1 "has no connection 4000" xi conn del "$IF" 4000
expect_error 1 "has no connection 4000" xi stats "$IF" --conn 4000
t_run xi conn del "$IF" "$id"
expect_eq "$T_RC" 0 "conn del ($T_ERR)"
expect_error 1 "has no connection $id" xi conn del "$IF" "$id"

# status shows the interface; detach removes it; a second detach fails.
t_run xi status --json
expect_eq "$(jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | .mode' <<<"$T_OUT")" native "status mode"
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
expect_error 1 "$IF is not attached" xi detach "$IF"

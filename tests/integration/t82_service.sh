#!/usr/bin/env bash
# xicept as a service, without systemd: 'make install' into a prefix, then
# the installed xicept@.service's own command lines (read from the unit by
# service_helper.py, %i and the unit's variables filled in as systemd does)
# run in the rx namespace with the installed binary, in systemd's order:
# ExecStartPre, ExecStart with NOTIFY_SOCKET and JOURNAL_STREAM, SIGTERM,
# ExecStopPost. Checked: systemd-analyze verify; READY=1 and STOPPING=1 from
# the daemon's pid; journal lines without timestamps; the config file
# applied when present; the fast path counting while the service is stopped
# and across a restart; XICEPT_DETACH_ON_STOP=1 detaching, unset leaving it;
# bad input (a missing interface, a broken config, a bad switch value): one
# line, nothing changed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
t_setup
IF=$TB_RX_IF
HELPER=$T_ROOT/tests/integration/service_helper.py
P=$T_TMP/prefix
CFG=$T_TMP/etc-xicept
mkdir -p "$CFG"
export XICEPT_CONFIG_DIR=$CFG   # the unit's /etc/xicept, overridden as /etc/default/xicept would
unset XICEPT_DETACH_ON_STOP XICEPT_ATTACH_OPTS XICEPT_RUN_OPTS

make -s -C "$T_ROOT" BUILD="$T_BUILD" install PREFIX="$P" >"$T_TMP/make.out" 2>&1 ||
  fail "make install failed: $(tail -3 "$T_TMP/make.out")"
UNIT_DIR=$P/lib/systemd/system
UNIT=$UNIT_DIR/xicept@.service
[ -f "$UNIT" ] || fail "make install did not install $UNIT"
t_ok
expect_eq "$(grep -c "^Exec[A-Za-z]*=$P/sbin/xicept " "$UNIT")" 4 "Exec lines naming the installed binary"
expect_eq "$(grep -c '@BINDIR@' "$UNIT")" 0 "placeholders left in the installed unit"

if command -v systemd-analyze >/dev/null; then
  out=$(cd "$UNIT_DIR" && systemd-analyze verify "./xicept@$IF.service" 2>&1)
  expect_eq "$?:$out" "0:" "systemd-analyze verify xicept@$IF.service"
  # verify does fail a broken unit: the same unit naming a missing binary.
  mkdir -p "$T_TMP/bad"
  sed "s|^ExecStart=$P/sbin/xicept|ExecStart=$T_TMP/missing/xicept|" "$UNIT" >"$T_TMP/bad/xicept@.service"
  (cd "$T_TMP/bad" && systemd-analyze verify "./xicept@$IF.service" >/dev/null 2>&1)
  expect_eq "$?" 1 "systemd-analyze verify of a unit naming a missing binary"
else
  echo "t82: SKIP systemd-analyze verify: systemd-analyze is not installed (scripts/deps.sh installs systemd)"
fi

# ---- systemd's part ----

SOCK=$T_TMP/notify.sock
NOTES=$T_TMP/notify.log     # "PID KEY=VALUE" per assignment received
python3 "$HELPER" listen "$SOCK" "$NOTES" &
T_PIDS+=($!)
for _ in $(seq 100); do grep -q '^listening$' "$NOTES" 2>/dev/null && break; sleep 0.05; done
grep -q '^listening$' "$NOTES" || fail "the notify socket listener did not start"

# svc_load INSTANCE: the unit's commands for INSTANCE, with this shell's
# XICEPT_* variables overriding the unit's Environment= defaults.
svc_load() {
  SVC_PRE=() SVC_START='' SVC_POST=() SVC_ENV=''
  python3 "$HELPER" exec "$UNIT" "$1" >"$T_TMP/exec" || fail "service_helper exec failed"
  local kind flags cmd
  while IFS=$'\t' read -r kind flags cmd; do
    case $kind in
      Environment) SVC_ENV=$cmd ;;
      ExecStartPre) SVC_PRE+=("$flags"$'\t'"$cmd") ;;
      ExecStart) SVC_START=$cmd ;;
      ExecStopPost) SVC_POST+=("$flags"$'\t'"$cmd") ;;
      *) fail "the unit has $kind, which this test does not run" ;;
    esac
  done <"$T_TMP/exec"
  [ -n "$SVC_START" ] || fail "the unit has no ExecStart"
}

# svc_cmd 'ARGV' [NAME=VALUE...]: one command line in the rx namespace with
# the unit's environment, output appended to the journal stand-in $JOURNAL.
svc_cmd() {
  local -a argv envv
  eval "argv=($1)"
  eval "envv=($SVC_ENV)"
  shift
  tb_rx env "${envv[@]}" "$@" "${argv[@]}" >>"$JOURNAL" 2>&1
}

# svc_start INSTANCE: ExecStartPre in order (a failure ends the start and
# runs ExecStopPost, as systemd does), then ExecStart in the background,
# ready when READY=1 arrives from its pid. Returns 1 when the start failed.
svc_start() {
  svc_load "$1"
  local c rc
  for c in "${SVC_PRE[@]}"; do
    svc_cmd "${c#*$'\t'}"
    rc=$?
    if [ "$rc" -ne 0 ] && [[ ${c%%$'\t'*} != *-* ]]; then
      SVC_FAILED_RC=$rc
      svc_stop_post
      return 1
    fi
  done
  local -a argv envv
  eval "argv=($SVC_START)"
  eval "envv=($SVC_ENV)"
  # nsenter and env exec: $! is the daemon's pid, the notify sender.
  nsenter --net="/run/netns/$TB_RX_NS" -- env "${envv[@]}" NOTIFY_SOCKET="$SOCK" \
    JOURNAL_STREAM="$(stat -c '%d:%i' "$JOURNAL")" "${argv[@]}" >>"$JOURNAL" 2>&1 &
  SVC_PID=$!
  T_PIDS+=("$SVC_PID")
  for _ in $(seq 400); do
    grep -qx "$SVC_PID READY=1" "$NOTES" && return 0
    kill -0 "$SVC_PID" 2>/dev/null || fail "ExecStart exited before READY=1: $(cat "$JOURNAL")"
    sleep 0.05
  done
  fail "no READY=1 from pid $SVC_PID within 20 s"
}

svc_stop_post() {
  local c
  SVC_POST_RC=0
  for c in "${SVC_POST[@]}"; do
    svc_cmd "${c#*$'\t'}" || SVC_POST_RC=$?
  done
}

# svc_stop: SIGTERM to the daemon (systemctl stop), then ExecStopPost.
svc_stop() {
  kill -TERM "$SVC_PID"
  wait "$SVC_PID"
  expect_eq "$?" 0 "the daemon's exit status on SIGTERM"
  expect_eq "$(grep -c "^$SVC_PID STOPPING=1$" "$NOTES")" 1 "STOPPING=1 from the daemon"
  svc_stop_post
}

xdp_on() { tb_rx ip -d link show dev "$1" 2>/dev/null | grep -c 'prog/xdp'; }
attached() { xi status --json | jq -r '[.interfaces[].interface] | sort | join(",")'; }
hs_packets() {   # header-stats packets of connection $1, SSRC $2
  xi stats "$IF" --json | jq --argjson c "$1" --argjson s "$2" \
    '[.connections[] | select(.id == $c) | .ssrcs[] | select(.ssrc == $s) | .packets] | first // 0'
}
send() { tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc "$1" --count "$2" --rate 5000 >/dev/null || fail "send"; }

# ---- 1. no config file, XICEPT_DETACH_ON_STOP unset ----

JOURNAL=$T_TMP/journal-1
: >"$JOURNAL"
expect_eq "$(xdp_on "$IF")" 0 "XDP program before the first start"
svc_start "$IF" || fail "the first start failed: $(cat "$JOURNAL")"
# The journal: attach's line, the engine's (queues, threads), "running on".
expect_eq "$(head -1 "$JOURNAL")" "$IF: attached (native mode, unknown flows pass)" \
  "journal of the first start: no config, so attach"
expect_eq "$(tail -1 "$JOURNAL" | sed "s/; catalog frozen with [0-9]* interceptors$//")" "running on $IF" "journal of the first start: the daemon"
expect_eq "$(grep -cE '^[0-9]{4}-|xicept run\[' "$JOURNAL")" 0 \
  "timestamped or pid-prefixed lines under JOURNAL_STREAM"
expect_eq "$(grep -c "READY=1" "$NOTES")" 1 "READY=1 messages"
expect_eq "$(grep -cx "$SVC_PID STATUS=running on $IF" "$NOTES")" 1 "STATUS= with READY=1"
expect_eq "$(attached)" "$IF" "attached interfaces while running"
expect_eq "$(xi conn list "$IF" --json | jq '.connections | length')" 0 "connections without a config"
xi conn add "$IF" --local "$TB_RX_IP:5004" --chain header-stats --stream 7:96:90000 >/dev/null ||
  fail "conn add"
send 7 100
expect_eq "$(hs_packets 1 7)" 100 "header-stats packets while the service runs"

: >"$JOURNAL"
svc_stop
expect_eq "$SVC_POST_RC" 0 "ExecStopPost's exit status"
expect_eq "$(sed -n 1p "$JOURNAL" | cut -c1-9)" "stopped: " "the daemon's last line, without a timestamp"
expect_eq "$(sed -n 2,\$p "$JOURNAL")" \
  "$IF: left attached, the fast path keeps running (XICEPT_DETACH_ON_STOP is not 1)" \
  "ExecStopPost without XICEPT_DETACH_ON_STOP"
expect_eq "$(xdp_on "$IF")" 1 "XDP program after stop"
# The fast path keeps running while the service is down.
send 7 100
expect_eq "$(hs_packets 1 7)" 200 "header-stats packets with the service stopped"

# Restart: attach finds xicept's program and leaves it (and the connection).
: >"$JOURNAL"
svc_start "$IF" || fail "the restart failed: $(cat "$JOURNAL")"
expect_eq "$(head -1 "$JOURNAL")" "$IF: already attached; left as it is" "journal of the restart"
expect_eq "$(tail -1 "$JOURNAL" | sed "s/; catalog frozen with [0-9]* interceptors$//")" "running on $IF" "journal of the restart: the daemon"
expect_eq "$(xi conn list "$IF" --json | jq -c '[.connections[] | {id, chain}]')" \
  '[{"id":1,"chain":"header-stats"}]' "connections across the restart"
send 7 100
expect_eq "$(hs_packets 1 7)" 300 "header-stats packets across the restart"

# Stop with XICEPT_DETACH_ON_STOP=1: detached, pins gone.
export XICEPT_DETACH_ON_STOP=1
svc_load "$IF"   # the environment of the stop (systemd re-reads it on daemon-reload)
: >"$JOURNAL"
svc_stop
expect_eq "$SVC_POST_RC" 0 "ExecStopPost's exit status with XICEPT_DETACH_ON_STOP=1"
expect_eq "$(sed -n 2,\$p "$JOURNAL")" "$IF: detached" "ExecStopPost with XICEPT_DETACH_ON_STOP=1"
expect_eq "$(xdp_on "$IF")" 0 "XDP program after stop with XICEPT_DETACH_ON_STOP=1"
[ -e "$TB_PIN_ROOT/$IF" ] && fail "pins of $IF left after the detaching stop"
t_ok
unset XICEPT_DETACH_ON_STOP

# ---- 2. with $XICEPT_CONFIG_DIR/IF.json ----

cat >"$CFG/$IF.json" <<EOF
{"interfaces": [{"name": "$IF", "mode": "skb", "policy": "drop", "connections": [
  {"local": "$TB_RX_IP:5004", "chain": "header-stats", "streams": ["9:96:90000"]},
  {"local": "$TB_RX_IP:5006", "chain": "header-stats ! nack-generator"}]}]}
EOF
JOURNAL=$T_TMP/journal-2
: >"$JOURNAL"
svc_start "$IF" || fail "the start with a config failed: $(cat "$JOURNAL")"
expect_match "$(head -1 "$JOURNAL")" "^$IF: attached \\(skb mode, unknown flows drop\\)$" \
  "the config's attach"
expect_eq "$(grep -c "^$IF: already attached; left as it is$" "$JOURNAL")" 1 \
  "attach --if-needed after apply"
expect_eq "$(tail -1 "$JOURNAL" | sed "s/; catalog frozen with [0-9]* interceptors$//")" "running on $IF" "the daemon's first line"
expect_eq "$(xi status --json | jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | "\(.mode) \(.policy)"')" \
  "skb drop" "mode and policy from the config"
expect_eq "$(xi conn list "$IF" --json | jq -c '[.connections[] | {local, chain}] | sort_by(.local)')" \
  "[{\"local\":\"$TB_RX_IP:5004\",\"chain\":\"header-stats\"},{\"local\":\"$TB_RX_IP:5006\",\"chain\":\"header-stats ! nack-generator\"}]" \
  "connections from the config"
send 9 50
id=$(xi conn list "$IF" --json | jq --arg l "$TB_RX_IP:5004" '.connections[] | select(.local == $l) | .id')
expect_eq "$(hs_packets "$id" 9)" 50 "header-stats packets of the config's connection"
: >"$JOURNAL"
svc_stop
expect_eq "$(xdp_on "$IF")" 1 "XDP program after stop (config run, no detach)"
rm -f "$CFG/$IF.json"
xi detach "$IF" >/dev/null || fail "detach"

# ---- 3. bad input: one line, nothing changed ----

# svc_bad INSTANCE WHAT REGEX: the start must fail, ExecStart never run, and
# the whole journal (ExecStartPre and ExecStopPost) be one line.
svc_bad() {
  local before_status before_pins notes
  before_status=$(xi status --json)
  before_pins=$(ls "$TB_PIN_ROOT" 2>/dev/null | sort)
  notes=$(wc -l <"$NOTES")
  JOURNAL=$T_TMP/journal-bad
  : >"$JOURNAL"
  svc_start "$1" && fail "$2: the start succeeded"
  expect_eq "$SVC_FAILED_RC" 1 "$2: exit status of the failing ExecStartPre"
  expect_eq "$SVC_POST_RC" 0 "$2: ExecStopPost's exit status"
  expect_eq "$(wc -l <"$JOURNAL")" 1 "$2: journal lines ($(cat "$JOURNAL"))"
  expect_match "$(cat "$JOURNAL")" "$3" "$2: the line"
  expect_eq "$(wc -l <"$NOTES")" "$notes" "$2: notify messages (ExecStart must not run)"
  expect_eq "$(xi status --json)" "$before_status" "$2: status"
  expect_eq "$(ls "$TB_PIN_ROOT" 2>/dev/null | sort)" "$before_pins" "$2: pin directories"
}

MISSING=xim$$
MISSING=${MISSING:0:15}
for detach in 0 1; do
  export XICEPT_DETACH_ON_STOP=$detach
  svc_bad "$MISSING" "missing interface (XICEPT_DETACH_ON_STOP=$detach)" \
    "^xicept: no such interface '$MISSING'$"
done
unset XICEPT_DETACH_ON_STOP
# A config file naming the missing interface: apply's check says so.
echo "{\"interfaces\": [{\"name\": \"$MISSING\", \"connections\": []}]}" >"$CFG/$MISSING.json"
svc_bad "$MISSING" "missing interface with a config" "^xicept: .*no such interface '$MISSING'$"
rm -f "$CFG/$MISSING.json"
# A broken config for a real interface: not attached, nothing applied.
echo '{"interfaces": [{"name": "'"$IF"'", "connections": [{"local": "'"$TB_RX_IP"':5004", "chain": "header-stat"}]}]}' \
  >"$CFG/$IF.json"
svc_bad "$IF" "config with an unknown interceptor" "^xicept: .*header-stat.*header-stats"
expect_eq "$(xdp_on "$IF")" 0 "XDP program after the refused config"
rm -f "$CFG/$IF.json"

# A value of XICEPT_DETACH_ON_STOP that is neither: one line, left attached.
JOURNAL=$T_TMP/journal-4
: >"$JOURNAL"
svc_start "$IF" || fail "start: $(cat "$JOURNAL")"
export XICEPT_DETACH_ON_STOP=maybe
svc_load "$IF"
: >"$JOURNAL"
svc_stop
expect_eq "$SVC_POST_RC" 1 "ExecStopPost's exit status with XICEPT_DETACH_ON_STOP=maybe"
expect_eq "$(sed -n 2,\$p "$JOURNAL")" \
  "xicept: XICEPT_DETACH_ON_STOP='maybe' is neither 1 nor 0; $IF left as it is" \
  "ExecStopPost with XICEPT_DETACH_ON_STOP=maybe"
expect_eq "$(xdp_on "$IF")" 1 "XDP program after a bad XICEPT_DETACH_ON_STOP"
unset XICEPT_DETACH_ON_STOP

# Without JOURNAL_STREAM (a terminal, a file): the daemon stamps its lines.
t_run timeout --preserve-status -s INT 2 nsenter --net="/run/netns/$TB_RX_NS" -- "$P/sbin/xicept" run "$IF"
expect_eq "$T_RC" 0 "run outside systemd: exit status"
expect_match "$(grep 'running on' <<<"$T_ERR")" \
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z xicept run\\[[0-9]+\\]: running on $IF; catalog frozen with [0-9]+ interceptors$" \
  "run outside systemd: timestamped lines"

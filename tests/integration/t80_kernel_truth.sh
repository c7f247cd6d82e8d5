#!/usr/bin/env bash
# The kernel is the source of truth: every command works where the pins
# cannot be seen (under `ip netns exec`, with the pins deleted, from a new
# mount namespace with a fresh bpffs or none), and detach removes xicept's
# program, never another's.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/lib_engine.sh"
t_setup

IF=$TB_RX_IF
PIN=$TB_PIN_ROOT/$IF
F=$T_TMP/apply.json

# How each case runs xicept in the rx network namespace.
ctx_netns()   { ip netns exec "$TB_RX_NS" "$XICEPT" "$@"; }
ctx_nopins()  { rm -rf "$PIN"; nsenter --net="/run/netns/$TB_RX_NS" -- "$XICEPT" "$@"; }
ctx_mntfresh() {
  unshare -m sh -c 'mount -t bpf bpf /sys/fs/bpf || exit 99; ns=$1; shift
                    exec nsenter --net="/run/netns/$ns" -- "$@"' sh "$TB_RX_NS" "$XICEPT" "$@"
}
ctx_mntnone() {
  unshare -m sh -c 'umount /sys/fs/bpf 2>/dev/null; ns=$1; shift
                    exec nsenter --net="/run/netns/$ns" -- "$@"' sh "$TB_RX_NS" "$XICEPT" "$@"
}

xdp_id() { tb_rx ip -j link show "$IF" | jq -r '.[0].xdp.prog.id // 0'; }

# The daemon, started through the case's context; RUN_PID is the context's
# process (ip/unshare exec into xicept, so it is the daemon).
run_in() {
  local ctx=$1
  RUN_LOG=$T_TMP/run-$ctx.log
  : >"$RUN_LOG"
  "$ctx" run "$IF" 2>>"$RUN_LOG" &
  RUN_PID=$!
  RUN_SUB=$RUN_PID
  T_PIDS+=("$RUN_PID")
  for _ in $(seq 100); do
    if grep -q "running on $IF" "$RUN_LOG"; then
      # The function's subshell forked once; ip, unshare, sh and nsenter
      # exec, so its one child is the daemon.
      RUN_PID=$(cat "/proc/$RUN_PID/task/$RUN_PID/children")
      [ "$(cat "/proc/${RUN_PID// /}/comm")" = xicept ] || fail "$ctx: daemon not found"
      return 0
    fi
    run_alive || break
    sleep 0.05
  done
  fail "$ctx: xicept run did not start: $(cat "$RUN_LOG")"
}

one_case() {
  local c=$1 id pkts
  t_run $c attach "$IF"
  expect_eq "$T_RC" 0 "$c: attach ($T_ERR)"
  id=$(xdp_id)
  [ "$id" != 0 ] || fail "$c: no XDP program after attach"
  t_run $c conn add "$IF" --local "$TB_RX_IP:5004" --chain 'header-stats' --stream 1:96:90000
  expect_eq "$T_RC$T_OUT" "01" "$c: conn add ($T_ERR)"
  t_run $c status --json
  expect_eq "$T_RC" 0 "$c: status ($T_ERR)"
  expect_eq "$(jq -r --arg i "$IF" '[.interfaces[] | select(.interface == $i)] | length' <<<"$T_OUT")" 1 \
    "$c: status lists $IF"
  # Traffic runs the whole chain: the stage slots are filled even when the
  # pins (and with them the arrays' contents) were gone.
  tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 1 --count 100 --rate 5000 >/dev/null || fail "send"
  t_run $c stats "$IF" --json
  expect_eq "$T_RC" 0 "$c: stats ($T_ERR)"
  pkts=$(jq '[.connections[] | select(.id == 1) | .ssrcs[] | select(.ssrc == 1) | .packets] | first // 0' <<<"$T_OUT")
  expect_eq "$pkts" 100 "$c: header-stats packets"
  expect_eq "$(jq '.reasons.tailcall_fail' <<<"$T_OUT")" 0 "$c: failed tail calls"
  # apply: adds one connection, keeps the one that matches.
  cat >"$F" <<EOF
{"interfaces": [{"name": "$IF", "connections": [
  {"local": "$TB_RX_IP:5004", "chain": "header-stats", "streams": ["1:96:90000"]},
  {"local": "$TB_RX_IP:5006", "chain": "header-stats ! nack-generator"}]}]}
EOF
  t_run $c apply "$F"
  expect_eq "$T_RC" 0 "$c: apply ($T_ERR)"
  t_run $c conn list "$IF" --json
  expect_eq "$(jq -c '[.connections[] | [.local, .path]]' <<<"$T_OUT")" \
    "[[\"$TB_RX_IP:5004\",\"xdp\"],[\"$TB_RX_IP:5006\",\"tap\"]]" "$c: conn list"
  # run: the daemon fills the tap's slot while it runs, and observes.
  run_in $c
  t_run $c status --json
  expect_eq "$(jq -r --arg i "$IF" '.interfaces[] | select(.interface == $i) | .programs[] | select(.stage == 4) | .name' <<<"$T_OUT")" \
    xi_tap "$c: the daemon filled the tap slot"
  tb_tx "$SEND" --to "$TB_RX_IP:5006" --ssrc 7 --count 50 --rate 5000 >/dev/null || fail "send"
  sleep 0.3
  kill -INT "$RUN_PID" || fail "$c: the daemon is gone"
  wait "$RUN_SUB"
  expect_eq "$?" 0 "$c: the daemon's exit status after SIGINT"
  grep -q "50 observed (tap" "$RUN_LOG" || fail "$c: the daemon did not observe 50 packets: $(tail -2 "$RUN_LOG")"
  t_ok
  t_run $c conn del "$IF" 2
  expect_eq "$T_RC" 0 "$c: conn del ($T_ERR)"
  t_run $c conn list "$IF" --json
  expect_eq "$(jq '.connections | length' <<<"$T_OUT")" 1 "$c: conn list after del"
  t_run $c detach "$IF"
  expect_eq "$T_RC$T_OUT" "0$IF: detached" "$c: detach ($T_ERR)"
  expect_eq "$(xdp_id)" 0 "$c: XDP program left after detach"
  [ ! -e "$PIN" ] || fail "$c: pins left after detach: $(ls "$PIN")"
  t_ok
}

for c in ctx_netns ctx_nopins ctx_mntfresh ctx_mntnone; do
  one_case $c
done

# ---- the pins come back, in the caller's view and for bpftool ----
xi attach "$IF" >/dev/null || fail "attach"
rm -rf "$PIN"
t_run ctx_netns conn list "$IF"
expect_eq "$T_RC" 0 "conn list with no pins ($T_ERR)"
[ -e "$PIN/xi_entry" ] && [ -e "$PIN/xi_conn_meta" ] || fail "pins not re-created in the host's bpffs"
t_ok
expect_eq "$(bpftool -j prog show pinned "$PIN/xi_entry" | jq .id)" "$(xdp_id)" "the pinned xi_entry is the attached one"

# ---- detach: xicept's program always, another's never ----
# Someone else's XDP program.
cat >"$T_TMP/other.bpf.c" <<'EOF'
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp") int other_pass(struct xdp_md *ctx) { return XDP_PASS; }
char LICENSE[] SEC("license") = "GPL";
EOF
clang -O2 -g -target bpf -I/usr/include/"$(gcc -dumpmachine)" -c "$T_TMP/other.bpf.c" \
  -o "$T_TMP/other.o" || fail "cannot build the other program"
xi detach "$IF" >/dev/null || fail "detach"
tb_rx ip link set dev "$IF" xdp obj "$T_TMP/other.o" sec xdp || fail "cannot attach the other program"
other=$(xdp_id)
for c in ctx_netns ctx_nopins ctx_mntfresh xi; do
  expect_error 1 "$IF: the XDP program attached is not xicept's; left in place" $c detach "$IF"
  expect_eq "$(xdp_id)" "$other" "$c: the other program is still attached"
  expect_error 1 "$IF: another XDP program is attached; xicept does not replace it" $c attach "$IF"
  expect_error 1 "$IF is not attached" $c conn list "$IF"
done
tb_rx ip link set dev "$IF" xdp off
expect_error 1 "$IF is not attached" xi detach "$IF"
# Pins of a program no longer on the hook: detach removes them, and attach
# is not refused by them.
xi attach "$IF" >/dev/null || fail "attach"
tb_rx ip link set dev "$IF" xdp off
[ -e "$PIN" ] || fail "pins gone with the hook"
t_run xi attach "$IF"
expect_eq "$T_RC" 0 "attach over stale pins ($T_ERR)"
expect_eq "$(bpftool -j prog show pinned "$PIN/xi_entry" | jq .id)" "$(xdp_id)" "stale pins replaced"
t_run xi detach "$IF"
expect_eq "$T_RC" 0 "detach ($T_ERR)"
[ ! -e "$PIN" ] || fail "pins left"
t_ok

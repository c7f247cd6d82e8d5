#!/usr/bin/env bash
# Detach leaves the interface as it was: no XDP program, pin or map behind,
# even with connections and traffic, in either mode.
source "$(dirname "$0")/lib.sh"
t_setup

IF=$TB_RX_IF
PIN=$TB_PIN_ROOT/$IF

# Kernel objects of ours that are still alive, by id, found without taking
# a reference to them (see bpf_ids.py: bpftool's "show id" can keep them).
alive() {
  python3 "$T_ROOT/tests/integration/bpf_ids.py" "$@" || fail "bpf_ids.py failed"
}

for mode in native skb; do
  t_run xi attach "$IF" --mode "$mode" --policy drop
  expect_eq "$T_RC" 0 "attach $mode ($T_ERR)"
  t_run xi conn add "$IF" --local "$TB_RX_IP:5004" --chain 'ssrc-filter mode=allow ssrc=1 ! header-stats' --stream 1:96:90000
  expect_eq "$T_RC" 0 "conn add ($T_ERR)"
  tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 1 --count 5 --rate 1000 >/dev/null || fail "send"

  status=$(xi status --json | jq --arg i "$IF" '.interfaces[] | select(.interface == $i)')
  prog_ids=$(jq -r '.programs[].id' <<<"$status")
  map_ids=$(for p in $prog_ids; do bpftool -j prog show id "$p" | jq -r '.map_ids[]?'; done | sort -u)
  [ -n "$map_ids" ] || fail "found no maps of our programs"
  t_run tb_rx ip link show "$IF"
  expect_match "$T_OUT" "xdp" "an XDP program is attached in $mode mode"

  t_run xi detach "$IF"
  expect_eq "$T_RC" 0 "detach $mode ($T_ERR)"
  t_run tb_rx ip link show "$IF"
  [[ $T_OUT != *xdp* ]] || fail "an XDP program is still attached after detach: $T_OUT"
  t_ok
  [ ! -e "$PIN" ] || fail "pins left behind: $(ls "$PIN")"
  t_ok
  # Programs and maps go once their last reference does; the kernel frees
  # them asynchronously, so allow it a moment.
  for _ in $(seq 50); do
    # shellcheck disable=SC2086
    left="$(alive prog $prog_ids)$(alive map $map_ids)"
    [ -z "$left" ] && break
    sleep 0.1
  done
  expect_eq "$left" "" "programs and maps alive after detach ($mode)"
  t_run xi status --json
  expect_eq "$(jq --arg i "$IF" '[.interfaces[] | select(.interface == $i)] | length' <<<"$T_OUT")" 0 "status after detach"
done

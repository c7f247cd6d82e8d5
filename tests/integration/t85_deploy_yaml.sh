#!/usr/bin/env bash
# deploy/kubernetes/xicept-daemonset.yaml, without a cluster: its fields
# checked with a YAML parser (check_daemonset.py); the pod's script through
# 'sh -n'; the ConfigMap's apply JSON accepted by 'apply --dry-run'; and the
# pod's capabilities proven on the testbed: apply, attach, conn add, run,
# stats and detach work with exactly the manifest's set (setpriv bounding
# set, as a container runtime sets it), and each capability left out breaks
# one of them.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
t_setup
IF=$TB_RX_IF
YAML=$T_ROOT/deploy/kubernetes/xicept-daemonset.yaml

facts=$(python3 "$T_ROOT/tests/integration/check_daemonset.py" "$YAML" 2>&1) ||
  fail "$facts"
eval "$facts"
T_CHECKS=$((T_CHECKS + checks))
sh -n -c "$DS_SCRIPT" || fail "the pod's script does not parse"
t_ok

# The ConfigMap's file for the testbed's interface.
F=$T_TMP/$IF.json
sed "s/\"$DS_IF\"/\"$IF\"/" <<<"$DS_CONFIG" >"$F"
# 192.0.2.10 stands for the node's address in the manifest.
grep -q '"192\.0\.2\.10:5004"' "$F" || fail "the ConfigMap's connection is not on 192.0.2.10:5004"
sed -i "s/192\.0\.2\.10:5004/$TB_RX_IP:5004/" "$F"
t_run xi apply --dry-run "$F"
expect_eq "$T_RC" 0 "apply --dry-run of the ConfigMap's file ($T_ERR)"
expect_eq "$(tail -1 <<<"$T_OUT")" "plan: 2 changes, nothing changed" "the ConfigMap's plan"

# capped CAPS CMD...: CMD in the rx namespace with only CAPS (uid 0), and
# RLIMIT_MEMLOCK at 8 MiB (Debian's default; with it unlimited, as some
# runtimes set it, IPC_LOCK would not be needed).
capped() {
  local caps=$1
  shift
  tb_rx prlimit --memlock=8388608:8388608 \
    setpriv --bounding-set "-all,$caps" --inh-caps -all -- "$@"
}

# The pod's steps with exactly the manifest's capabilities.
t_run capped "$DS_CAPS" "$XICEPT" apply --if-exists "$F"
expect_eq "$T_RC" 0 "apply with the pod's capabilities ($T_ERR)"
t_run capped "$DS_CAPS" "$XICEPT" attach --if-needed "$IF"
expect_eq "$T_RC:$T_OUT" "0:$IF: already attached; left as it is" "attach --if-needed with the pod's capabilities"
t_run capped "$DS_CAPS" "$XICEPT" conn add "$IF" --local "$TB_RX_IP:5006" --chain 'header-stats ! nack-generator'
expect_eq "$T_RC:$T_OUT" "0:2" "conn add (userspace chain) with the pod's capabilities ($T_ERR)"
t_run capped "$DS_CAPS" timeout --preserve-status -s TERM 2 "$XICEPT" run "$IF"
expect_eq "$T_RC" 0 "run with the pod's capabilities ($T_ERR)"
expect_eq "$(grep -cE "running on $IF(; catalog frozen with [0-9]+ interceptors)?\$" <<<"$T_ERR")" 1 "run started with the pod's capabilities"
tb_tx "$SEND" --to "$TB_RX_IP:5004" --ssrc 5 --count 40 --rate 5000 >/dev/null || fail "send"
t_run capped "$DS_CAPS" "$XICEPT" stats "$IF" --json
expect_eq "$T_RC" 0 "stats with the pod's capabilities ($T_ERR)"
expect_eq "$(jq '[.connections[] | select(.id == 1) | .ssrcs[] | select(.ssrc == 5) | .packets] | first // 0' <<<"$T_OUT")" \
  40 "header-stats packets of the ConfigMap's connection"
t_run capped "$DS_CAPS" env XICEPT_DETACH_ON_STOP=1 "$XICEPT" detach --on-stop "$IF"
expect_eq "$T_RC:$T_OUT" "0:$IF: detached" "detach --on-stop with the pod's capabilities ($T_ERR)"

# Each capability is needed: without it a step fails, with one line.
for cap in ${DS_CAPS//,/ }; do
  less=$(tr ',' '\n' <<<"$DS_CAPS" | grep -vx -- "$cap" | paste -sd,)
  broke=
  for step in attach run detach; do
    xi attach --if-needed "$IF" >/dev/null || fail "attach"
    case $step in
      attach) xi detach "$IF" >/dev/null; t_run capped "$less" "$XICEPT" attach "$IF" ;;
      run) t_run capped "$less" timeout --preserve-status -s TERM 2 "$XICEPT" run "$IF" ;;
      detach) t_run capped "$less" "$XICEPT" detach "$IF" ;;
    esac
    if [ "$T_RC" -ne 0 ]; then
      expect_match "$(tail -1 <<<"$T_ERR")" "^xicept: .*(Operation not permitted|No buffer space)" \
        "$step without ${cap#+}"
      broke="$broke $step"
    fi
  done
  xi detach "$IF" >/dev/null 2>&1
  [ -n "$broke" ] || fail "nothing failed without ${cap#+}: the manifest need not add it"
  t_ok
  echo "t83: without ${cap#+}:$broke fails"
done

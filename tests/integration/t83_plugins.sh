#!/usr/bin/env bash
# Plugins: a good one loads with its version and origin; each kind of bad
# one (not loadable, a missing symbol, a wrong ABI, a duplicate name, a
# failing init, a stage the verifier refuses) costs one line naming the
# file and is skipped while everything else works; files and directories
# not owned by root, or writable by group or others, are refused, each
# case with its reason.
source "$(dirname "$0")/lib.sh"
t_setup

# Plugins must sit on a path only root can write: not under /tmp.
rm -rf "$T_TMP"
T_TMP=$(mktemp -d -p "$T_BUILD" "xi-$T_NAME.XXXXXX")
SRC=$T_ROOT/tests/integration/plugins
P=$T_TMP/plugins
mkdir -p "$P"
build_so() {   # OUT [CFLAGS...]
  local out=$1
  shift
  cc -shared -fPIC -O2 -Wall -Werror -I"$T_ROOT/include" "$@" -o "$out" "$SRC/bad_plugins.c" ||
    fail "cannot build $out"
}
build_so "$P/a-good.so"
build_so "$P/b-no-init.so" -DBAD_NO_INIT
build_so "$P/c-abi.so" -DBAD_ABI
build_so "$P/d-dup.so" -DBAD_DUP
build_so "$P/e-init.so" -DBAD_INIT -DNAME='"t80-init"'
printf 'not an ELF file\n' >"$P/f-garbage.so"
build_so "$P/g-no-abi.so" -DBAD_NO_ABI -DNAME='"t80-noabi"'

t_run "$XICEPT" --plugin-dir "$P" registry list --json
expect_eq "$T_RC" 0 "registry list with bad plugins beside a good one"
err() { grep -F "plugin $P/$1:" <<<"$T_ERR"; }
expect_eq "$(wc -l <<<"$T_ERR")" 6 "one line per bad plugin"
expect_match "$(err b-no-init.so)" "missing symbol xicept_plugin_init; skipped$" "missing init"
expect_match "$(err c-abi.so)" "built for plugin ABI 999, this xicept has plugin ABI 2; skipped$" "wrong ABI"
expect_match "$(err d-dup.so)" "duplicate interceptor 'noop@1.0' \(already from user/interceptors/noop/noop.c:[0-9]+\); skipped$" "duplicate name"
expect_match "$(err e-init.so)" "xicept_plugin_init failed: Input/output error; skipped$" "failing init"
expect_match "$(err f-garbage.so)" "cannot load: .*; skipped$" "not loadable"
expect_match "$(err g-no-abi.so)" "missing symbol xicept_plugin_abi; skipped$" "missing ABI symbol"
good=$(jq -c '.interceptors[] | select(.name == "t80-good") | [.version, .origin, .origin_kind]' <<<"$T_OUT")
expect_eq "$good" "[\"2.0\",\"$P/a-good.so\",\"plugin\"]" "the good plugin's version and origin"
# Nothing of a failed init stays, not even what it registered first.
expect_eq "$(jq '[.interceptors[] | select(.name == "t80-init" or .name == "t80-second")] | length' <<<"$T_OUT")" 0 \
  "names registered by a failing init"
expect_eq "$(jq -r '.interceptors[] | select(.name == "noop") | .origin' <<<"$T_OUT")" \
  "$(grep -n 'XI_CATALOG_REGISTER' "$T_ROOT/user/interceptors/noop/noop.c" | cut -d: -f1 | sed 's|^|user/interceptors/noop/noop.c:|')" \
  "a built-in's origin is the file and line of its XI_CATALOG_REGISTER"

# Versions: a second version beside the first; a bare name is the highest.
rm -f "$P"/[b-g]*.so
build_so "$P/h-good-2.1.so" -DMINOR=1
t_run "$XICEPT" --plugin-dir "$P" registry list --json
expect_eq "$(jq -c '[.interceptors[] | select(.name == "t80-good") | .version]' <<<"$T_OUT")" '["2.1","2.0"]' \
  "both versions, newest first"
expect_error 1 "unknown version 't80-good@2.5' \(the highest is 't80-good@2.1'\)" \
  "$XICEPT" --plugin-dir "$P" conn add lo --local 127.0.0.1:9 --chain 't80-good@2.5'
# The environment and the order of directories.
t_run env XICEPT_PLUGIN_PATH="/nonexistent:$P" "$XICEPT" registry list --json
expect_eq "$(jq '[.interceptors[] | select(.name == "t80-good")] | length' <<<"$T_OUT")" 2 \
  "plugins from XICEPT_PLUGIN_PATH"
expect_error 1 "plugin directory /nonexistent-$$: No such file or directory" \
  "$XICEPT" --plugin-dir "/nonexistent-$$" registry list
rm -f "$P"/h*.so

# Ownership and permissions, of the file and of every directory above it.
perm_case() {   # WHAT REGEX SETUP-COMMAND...
  local what=$1 re=$2
  shift 2
  local d
  d=$(mktemp -d -p "$T_TMP" perm.XXXXXX)
  mkdir -p "$d/sub"
  build_so "$d/sub/p.so"
  "$@" "$d"
  t_run "$XICEPT" --plugin-dir "$d/sub" registry list --json
  expect_eq "$T_RC" 0 "$what: the command still runs"
  expect_match "$T_ERR" "^xicept: plugin $d/sub/p.so: $re; skipped$" "$what"
  expect_eq "$(jq '[.interceptors[] | select(.name == "t80-good")] | length' <<<"$T_OUT")" 0 "$what: not loaded"
}
perm_case "file not root's" "$T_TMP/perm\.[^/]+/sub/p\.so is owned by uid 65534, not root" \
  bash -c 'chown 65534 "$1/sub/p.so"' _
perm_case "file group-writable" "$T_TMP/perm\.[^/]+/sub/p\.so is writable by its group" \
  bash -c 'chmod g+w "$1/sub/p.so"' _
perm_case "file other-writable" "$T_TMP/perm\.[^/]+/sub/p\.so is writable by others" \
  bash -c 'chmod o+w "$1/sub/p.so"' _
perm_case "directory group-writable" "directory $T_TMP/perm\.[^/]+/sub is writable by its group" \
  bash -c 'chmod g+w "$1/sub"' _
perm_case "directory other-writable" "directory $T_TMP/perm\.[^/]+/sub is writable by others" \
  bash -c 'chmod o+w "$1/sub"' _
perm_case "parent directory not root's" "directory $T_TMP/perm\.[^/]+ is owned by uid 65534, not root" \
  bash -c 'chown 65534 "$1"' _
link_into_tmp() {   # the real path counts, not the link's
  local t
  t=$(mktemp /tmp/xi-t80-XXXXXX.so)
  cp "$1/sub/p.so" "$t"
  rm "$1/sub/p.so"
  ln -s "$t" "$1/sub/p.so"
}
perm_case "a link to a file in /tmp" "directory /tmp is writable by its group" link_into_tmp
rm -f /tmp/xi-t80-*.so

# A stage the verifier refuses: attach reports it and goes on; the other
# interceptors work, and a connection with it fails with the reason.
build_so "$P/i-stage.so" -DBAD_STAGE
clang -target bpf -O2 -g -c "$SRC/bad_stage.bpf.c" -o "$P/bad_stage.bpf.o" \
  -I"/usr/include/$(gcc -dumpmachine)" || fail "cannot build bad_stage.bpf.o"
t_run xi --plugin-dir "$P" attach "$TB_RX_IF"
expect_eq "$T_RC" 0 "attach with a refused stage ($T_ERR)"
expect_match "$T_ERR" "^xicept: plugin $P/bad_stage.bpf.o: stage of t80-bad-stage@1.0: .*the kernel refused program xi_t80_bad: Permission denied .*; skipped$" \
  "the verifier's refusal, one line"
t_run xi --plugin-dir "$P" conn add "$TB_RX_IF" --local "$TB_RX_IP:5004" --chain 'ssrc-filter mode=deny ssrc=1 ! t80-good'
expect_eq "$T_RC" 0 "a connection without the refused stage ($T_ERR)"
expect_error 1 "t80-bad-stage@1.0: stage object $P/bad_stage.bpf.o: the kernel refused" \
  xi --plugin-dir "$P" conn add "$TB_RX_IF" --local "$TB_RX_IP:5006" --chain 't80-bad-stage'

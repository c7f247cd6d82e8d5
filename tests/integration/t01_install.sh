#!/usr/bin/env bash
# make install into a DESTDIR, then build examples/embed.c the way a C
# developer would — with pkg-config, against the static and the shared
# library — and check what it prints. No network needed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0
fail() { echo "FAIL [t01_install] $*" >&2; exit 1; }

make -s -C "$root" install DESTDIR="$tmp/dest" PREFIX=/usr >/dev/null

for f in usr/include/xicept/xicept.h usr/include/xicept/interceptor.h usr/lib/libxicept.a \
	 usr/lib/libxicept.so usr/lib/libxicept.so.0 usr/lib/pkgconfig/xicept.pc usr/sbin/xicept; do
	[ -e "$tmp/dest/$f" ] || fail "make install did not install $f"
	checks=$((checks + 1))
done

export PKG_CONFIG_SYSROOT_DIR=$tmp/dest
export PKG_CONFIG_LIBDIR=$tmp/dest/usr/lib/pkgconfig:/usr/lib/x86_64-linux-gnu/pkgconfig:/usr/share/pkgconfig
version=$(pkg-config --modversion xicept)
[ -n "$version" ] || fail "pkg-config does not know xicept"
checks=$((checks + 1))

# Static libxicept.a against the shared libraries it needs: the built-ins
# must survive the link (their anchors keep them).
deps=$(pkg-config --print-requires-private xicept | awk '{print $1}')
# shellcheck disable=SC2046,SC2086  # pkg-config output is meant to split
cc -o "$tmp/embed-static" "$root/examples/embed.c" $(pkg-config --cflags xicept) \
	"$tmp/dest/usr/lib/libxicept.a" $(pkg-config --libs $deps) -lelf -lz -lpthread -lm
# shellcheck disable=SC2046
cc -o "$tmp/embed-shared" "$root/examples/embed.c" $(pkg-config --cflags --libs xicept)

want="delivered=10 dropped=3 pt96=10"
got=$("$tmp/embed-static")
[ "$got" == "$want" ] || fail "static embed printed '$got', expected '$want'"
checks=$((checks + 1))
got=$(LD_LIBRARY_PATH=$tmp/dest/usr/lib "$tmp/embed-shared")
[ "$got" == "$want" ] || fail "shared embed printed '$got', expected '$want'"
checks=$((checks + 1))
ldd_out=$(LD_LIBRARY_PATH=$tmp/dest/usr/lib ldd "$tmp/embed-shared")
[[ $ldd_out == *"$tmp/dest/usr/lib/libxicept.so.0"* ]] || fail "shared embed does not load the installed libxicept.so.0"
checks=$((checks + 1))

listing=$("$tmp/dest/usr/sbin/xicept" registry list --json)
[[ $listing == *'"name": "ssrc-filter"'* ]] || fail "installed xicept does not list ssrc-filter"
checks=$((checks + 1))
echo "PASS t01_install ($checks checks)"

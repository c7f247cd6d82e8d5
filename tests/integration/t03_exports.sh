#!/usr/bin/env bash
# libxicept.so exports exactly its public API: the names declared XI_API in
# include/xicept/*.h, each at version XICEPT_0 (scripts/libxicept.map). A
# name exported but not declared public is an ABI promise nobody made; one
# declared but not exported fails only when a program links. No root needed.
#
# BUILD (default build) names the build directory, as for make; XI_HEADERS
# another header folder to compare against.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
so=$build/libxicept.so
headers=${XI_HEADERS:-$root/include/xicept}
checks=0
fail() { echo "FAIL [t03_exports] $*" >&2; exit 1; }

[ -e "$so" ] || fail "$so is missing (run make first)"

# Declared: the identifier an XI_API declaration names, i.e. the last one
# before its parameter list, array bounds, initialiser or ';'. Comments and
# preprocessor lines go first, so export.h's own definition is not taken
# for a declaration. A static inline cannot be exported, so it is skipped.
declared=$(cat "$headers"/*.h | perl -0777 -ne '
	s{/\*.*?\*/}{ }gs;
	s{//[^\n]*}{}g;
	s{^[ \t]*#(?:[^\n]*\\\n)*[^\n]*}{}mg;
	while (/\bXI_API\b([^;{]*)/g) {
		my $decl = $1;
		next if $decl =~ /\bstatic\b/;
		($decl) = split /[(\[=]/, $decl, 2;
		print "$1\n" if $decl =~ /([A-Za-z_]\w*)\s*$/;
	}' | sort -u)
[ -n "$declared" ] || fail "found no XI_API declaration in $headers"

# Exported: defined dynamic symbols but the version node itself (type A).
exported=$(nm -D --defined-only "$so" | awk '$2 != "A" { print $3 }' | sort -u)
unversioned=$(grep -v '@@XICEPT_0$' <<<"$exported" || true)
[ -z "$unversioned" ] || fail "exported without version XICEPT_0:"$'\n'"$unversioned"
checks=$((checks + 1))
exported=$(awk -F@ '{ print $1 }' <<<"$exported" | sort -u)

extra=$(comm -13 <(echo "$declared") <(echo "$exported"))
missing=$(comm -23 <(echo "$declared") <(echo "$exported"))
[ -z "$extra" ] || fail "exported but not declared XI_API in $headers:"$'\n'"$extra"
checks=$((checks + 1))
[ -z "$missing" ] || fail "declared XI_API but not exported by $so:"$'\n'"$missing"
checks=$((checks + 1))
echo "PASS t03_exports ($checks checks, $(wc -l <<<"$exported") symbols)"

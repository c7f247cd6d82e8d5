#!/usr/bin/env bash
# Self-registration outside libxicept, the way a third party does it:
#  - a factory in a static library (ar) survives a static link against
#    libxicept.a without --whole-archive through XI_CATALOG_ANCHOR and
#    XI_CATALOG_USE, and is left out without the XI_CATALOG_USE (so this test
#    can tell the two apart);
#  - a dlopen()ed plugin that registers is in the global list while loaded and
#    gone once dlclose()d, and the list stays usable.
# Run from the repository root after `make all`; BUILD names the build
# directory (default build). No network, no root.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-build}
[[ $build == /* ]] || build=$root/$build
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
checks=0
fail() { echo "FAIL [t02_static_anchor] $*" >&2; exit 1; }

for f in libxicept.a libxicept.so; do
	[ -e "$build/$f" ] || fail "$build/$f is missing: run 'make all' first"
done
cc=${CC:-cc}
cflags=(-std=gnu11 -Wall -Wextra -Wno-unused-parameter -Werror -I"$root/include" -I"$tmp")
libs=(-lbpf -lxdp -lelf -lz -lurcu-bp -ljansson -lpcap -lsrtp2 -lcrypto -lnl-route-3 -lnl-3 -lpthread -lm)

# ---- a third-party static library ----

cat >"$tmp/third.c" <<'EOF'
#include <errno.h>
#include <xicept/catalog.h>

static int third_new(const struct xi_factory *f, const void *config,
		     const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory third_factory = {
	.name = "third-party",
	.description = "a factory from someone else's static library",
	.new_interceptor = third_new,
};

XI_CATALOG_REGISTER(third_factory)
XI_CATALOG_ANCHOR(third_party)
EOF
# The library's public header carries the use, so including it is enough.
cat >"$tmp/third.h" <<'EOF'
#include <xicept/catalog.h>
XI_CATALOG_USE(third_party)
EOF
cat >"$tmp/app.c" <<'EOF'
#include <stdio.h>
#include <xicept/catalog.h>
#ifdef WITH_THIRD
#include "third.h"
#endif

static const char *has(struct xi_catalog *cat, const char *name)
{
	struct xi_catalog_entry *e = NULL;

	if (xi_catalog_lookup(cat, name, &e))
		return "no";
	xi_catalog_entry_put(e);
	return "yes";
}

int main(void)
{
	struct xi_catalog *cat;
	struct xi_err err;

	if (xi_catalog_new_from_global_err(&cat, &err)) {
		fprintf(stderr, "%s\n", err.msg);
		return 2;
	}
	printf("third-party=%s ssrc-filter=%s\n", has(cat, "third-party"),
	       has(cat, "ssrc-filter"));
	xi_catalog_free(cat);
	return 0;
}
EOF
"$cc" "${cflags[@]}" -c -o "$tmp/third.o" "$tmp/third.c"
ar rcs "$tmp/libthird.a" "$tmp/third.o"

link_app() {   # OUT [cc args...]: a plain static link, no --whole-archive
	local out=$1
	shift
	"$cc" "${cflags[@]}" "$@" -o "$tmp/$out" "$tmp/app.c" "$tmp/libthird.a" \
		"$build/libxicept.a" "${libs[@]}"
}

expect_run() {   # BINARY WANT
	local got
	got=$("$tmp/$1") || fail "$1 exited $?"
	[ "$got" == "$2" ] || fail "$1 printed '$got', expected '$2'"
	checks=$((checks + 1))
}

link_app with-use -DWITH_THIRD
expect_run with-use "third-party=yes ssrc-filter=yes"
link_app with-use-gc -DWITH_THIRD -ffunction-sections -fdata-sections -Wl,--gc-sections
expect_run with-use-gc "third-party=yes ssrc-filter=yes"
# Without the use nothing refers to third.o: the linker leaves it out. If this
# ever finds the factory, the check above proves nothing.
link_app without-use
expect_run without-use "third-party=no ssrc-filter=yes"

# ---- a plugin that comes and goes ----

cat >"$tmp/plugin.c" <<'EOF'
#include <errno.h>
#include <xicept/catalog.h>

static int plugin_new(const struct xi_factory *f, const void *config,
		      const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory plugin_factory = {
	.name = "plugin",
	.new_interceptor = plugin_new,
};

XI_CATALOG_REGISTER(plugin_factory)
EOF
cat >"$tmp/host.c" <<'EOF'
#include <dlfcn.h>
#include <stdio.h>
#include <xicept/catalog.h>

/* Copies the global list, as any program does, and looks for the plugin. */
static const char *has_plugin(void)
{
	struct xi_catalog *cat = xi_catalog_new_from_global();
	struct xi_catalog_entry *e = NULL;
	const char *r = "no";

	if (!cat)
		return "error";
	if (xi_catalog_lookup(cat, "plugin", &e) == 0)
		r = "yes";
	xi_catalog_entry_put(e);
	xi_catalog_free(cat);
	return r;
}

int main(int argc, char **argv)
{
	const char *before = has_plugin(), *loaded, *after;
	void *h = dlopen(argv[1], RTLD_NOW);

	if (!h) {
		fprintf(stderr, "%s\n", dlerror());
		return 2;
	}
	loaded = has_plugin();
	dlclose(h);
	/* Only a plugin that is really unmapped tests the destructor. */
	if (dlopen(argv[1], RTLD_NOW | RTLD_NOLOAD)) {
		fprintf(stderr, "the plugin stayed loaded\n");
		return 3;
	}
	after = has_plugin();
	printf("before=%s loaded=%s after=%s\n", before, loaded, after);
	return 0;
}
EOF
"$cc" "${cflags[@]}" -fPIC -shared -o "$tmp/plugin.so" "$tmp/plugin.c" \
	-L"$build" -l:libxicept.so
"$cc" "${cflags[@]}" -o "$tmp/host" "$tmp/host.c" -L"$build" -Wl,-rpath,"$build" \
	-l:libxicept.so -ldl
got=$("$tmp/host" "$tmp/plugin.so") || fail "host exited $? (a dangling global entry crashes it)"
[ "$got" == "before=no loaded=yes after=no" ] ||
	fail "host printed '$got', expected 'before=no loaded=yes after=no'"
checks=$((checks + 1))

echo "PASS t02_static_anchor ($checks checks)"

// SPDX-License-Identifier: MIT
/*
 * A static link only pulls in object files that something references, and a
 * built-in's constructor is referenced by nothing. xi_catalog_new_from_global
 * calls xi_builtins_keep, which reads every built-in's anchor: that reference
 * is what keeps each built-in, and its XI_CATALOG_REGISTER, in the program.
 */
#include <xicept/catalog.h>

#include "registry/builtin.h"
#include "registry/catalog_internal.h"

#define XI_BUILTIN_DECLARE(sym) extern const char xi_anchor_##sym;
XI_BUILTINS(XI_BUILTIN_DECLARE)
#undef XI_BUILTIN_DECLARE

#define XI_BUILTIN_ADDRESS(sym) &xi_anchor_##sym,
static const char *const anchors[] = { XI_BUILTINS(XI_BUILTIN_ADDRESS) };
#undef XI_BUILTIN_ADDRESS

unsigned xi_builtins_keep(void)
{
	unsigned n = 0;

	/* volatile: the reads, and so the references, must not be folded away. */
	for (size_t i = 0; i < sizeof(anchors) / sizeof(anchors[0]); i++)
		n += *(const volatile char *)anchors[i];
	return n;
}

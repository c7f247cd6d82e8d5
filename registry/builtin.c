// SPDX-License-Identifier: MIT
/*
 * A static link only pulls in object files that something references, and a
 * built-in's constructor is referenced by nothing. This file uses every
 * userspace-kind built-in's anchor (XI_CATALOG_USE, the same pair any
 * third-party library uses) and every XDP stage's descriptor, which lives
 * beside its factory; xi_catalog_new_from_global calls xi_builtins_keep,
 * which pulls this file, and so every built-in and its XI_CATALOG_REGISTER,
 * into the program.
 *
 * The anchors are not listed by hand: the build writes XI_BUILTINS
 * (xi_builtins.h) with an X(sym) for each XI_CATALOG_ANCHOR(sym) in
 * user/interceptors/, so a new userspace-kind interceptor needs only its
 * anchor beside its XI_CATALOG_REGISTER. XDP-kind interceptors are kept
 * through their line in XI_STAGES (abi.h), which names their stage
 * descriptor. The literal list in tests/registry/test_global.c fails when a
 * built-in is missing from the program.
 */
#include <xicept/abi.h>
#include <xicept/catalog.h>

#include "registry/catalog_internal.h"
#include "xi_builtins.h"

XI_BUILTINS(XI_CATALOG_USE)

/* The type stays incomplete here: only the address is taken. */
struct xi_stage;
#define XI_STAGE_USE_(ID, slot, sym)                                          \
	extern const struct xi_stage xi_stage_##sym;                     \
	__attribute__((used)) static const struct xi_stage *const xi__stage_##sym = &xi_stage_##sym;
XI_STAGES(XI_STAGE_USE_)
#undef XI_STAGE_USE_

#define XI_BUILTIN_ONE(sym) +1
unsigned xi_builtins_keep(void)
{
	return 0 XI_BUILTINS(XI_BUILTIN_ONE);
}
#undef XI_BUILTIN_ONE

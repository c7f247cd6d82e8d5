// SPDX-License-Identifier: MIT
/*
 * The plugins of t80, one source: BAD_* picks what each .so does wrong.
 * Built with the in-tree headers and no -lxicept: the xicept binary
 * exports the API they call.
 */
#include <errno.h>

#include <xicept/xicept.h>
#include <xicept/plugin.h>

#if defined(BAD_ABI)
XI_API extern const uint32_t xicept_plugin_abi;
const uint32_t xicept_plugin_abi = 999;
#elif !defined(BAD_NO_ABI)
XI_PLUGIN_DEFINE_ABI
#endif

static int good_new(const struct xi_factory *f, const void *config,
		    const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

#ifndef NAME
#define NAME "t80-good"
#endif
#ifndef MINOR
#define MINOR 0
#endif

__attribute__((unused)) static const struct xi_factory fac = {
	.name = NAME, .description = "t80 test plugin", .kind = XI_KIND_USERSPACE,
	.new_interceptor = good_new, .version_major = 2, .version_minor = MINOR,
};

__attribute__((unused)) static const struct xi_factory second = {
	.name = "t80-second", .description = "registered before a failing init",
	.kind = XI_KIND_USERSPACE, .new_interceptor = good_new,
};

#ifdef BAD_STAGE
static const struct xi_stage stage = {
	.sz = sizeof(stage), .name = "t80-bad-stage", .slot = XI_STAGE_SLOT_ANY,
	.object = "bad_stage.bpf.o", .prog = "xi_t80_bad",
};
static const struct xi_factory stage_fac = {
	.name = "t80-bad-stage", .description = "its stage is refused by the verifier",
	.kind = XI_KIND_XDP, .stage = &stage, .new_interceptor = good_new,
};
#endif

#ifndef BAD_NO_INIT
int xicept_plugin_init(struct xi_catalog *cat, const struct xi_plugin_info *info)
{
	int r;

#if defined(BAD_DUP)
	static const struct xi_factory dup = {
		.name = "noop", .kind = XI_KIND_USERSPACE, .new_interceptor = good_new,
	};
	return xi_catalog_register(cat, &dup);
#elif defined(BAD_STAGE)
	return xi_catalog_register(cat, &stage_fac);
#endif
	r = xi_catalog_register(cat, &fac);
#ifdef BAD_INIT
	if (!r)
		r = xi_catalog_register(cat, &second);
	return r ? r : -EIO;
#endif
	return r;
}
#endif

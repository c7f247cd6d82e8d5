// SPDX-License-Identifier: MIT
/*
 * The plugin test_plugin.c loads: one factory, unit-plugin@1.0. Built by the
 * test itself, with no -lxicept: the test program exports the API, as the
 * xicept binary does.
 */
#include <errno.h>

#include <xicept/xicept.h>
#include <xicept/plugin.h>

XI_PLUGIN_DEFINE_ABI

static int one_new(const struct xi_factory *f, const void *config,
		   const struct xi_build_ctx *ctx, struct xi_interceptor **ret)
{
	*ret = xi_noop_new();
	return *ret ? 0 : -ENOMEM;
}

static const struct xi_factory one = {
	.name = "unit-plugin", .description = "test_plugin.c's plugin",
	.kind = XI_KIND_USERSPACE, .new_interceptor = one_new,
};

int xicept_plugin_init(struct xi_catalog *cat, const struct xi_plugin_info *info)
{
	return xi_catalog_register(cat, &one);
}
